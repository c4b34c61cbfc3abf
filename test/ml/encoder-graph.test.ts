import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { SMALL_ATTENTION_SCORES } from '../../ml/graph/encoder-graph';
import { runTrainingGraph } from '../../ml/graph/graph-runner';
import { EncoderModel } from '../../ml/models/encoder-model';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import type { EncoderHead } from '../../ml/models/encoder';
import { classification } from '../../ml/tasks/classification';
import { lossTargets, type LossOptions } from '../../ml/tasks/encoder-objective';
import { questionAnswering } from '../../ml/tasks/question-answering';
import { tokenClassification } from '../../ml/tasks/token-classification';
import { IGNORED_LABEL } from '../../ml/tokenizers/task-encoding';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
  assert.equal(tf.getBackend(), 'tensorflow');
});

const BASE: EncoderConfig = {
  vocabSize: 300,
  maxLength: 24,
  layers: 2,
  hidden: 32,
  heads: 4,
  ffn: 64,
  dropout: 0.1,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
  classes: 5,
};

/** Token ids and a padding mask in which row r ends r mod 4 tokens early. */
function paddedBatch(size: number, length: number, vocabSize: number): { ids: Tf.Tensor2D; mask: Tf.Tensor2D } {
  const ids = Int32Array.from({ length: size * length }, (_, i) => 1 + ((i * 37) % (vocabSize - 1)));
  const mask = Float32Array.from({ length: size * length }, (_, i) =>
    i % length < length - (Math.floor(i / length) % 4) ? 1 : 0,
  );
  return { ids: tf.tensor2d(ids, [size, length], 'int32'), mask: tf.tensor2d(mask, [size, length]) };
}

/**
 * The training graph's loss and gradients against TensorFlow.js differentiating the model's own
 * ops, on a padded batch (rows of different lengths) with the same dropout seed: for the head's
 * rows of logits (one per sequence or one per token) and their labels, negative ones ignored.
 */
function compare(
  config: EncoderConfig,
  loss: LossOptions,
  length: number,
  head: EncoderHead = classification.head,
  labelsOf: (size: number, length: number) => number[] = () => [0, 1, 2, 3, 4, 1],
  withTypes = false,
): void {
  const model = new EncoderModel(tf, config, head, 3);
  const size = 6;
  const classes = (head.rowClasses?.(config, length) as number | undefined) ?? config.classes;
  tf.tidy(() => {
    const { ids, mask } = paddedBatch(size, length, config.vocabSize);
    // A pair of texts per row: the second segment starts a third of the way in.
    const types = withTypes
      ? tf.tensor2d(
          Int32Array.from({ length: size * length }, (_, i) => (i % length >= length / 3 ? 1 : 0)),
          [size, length],
          'int32',
        )
      : undefined;
    const labels = tf.tensor1d(labelsOf(size, length), 'int32');
    const labelled = tf.greaterEqual(labels, 0).toFloat();
    const ids0 = tf.maximum<Tf.Tensor1D>(labels, tf.scalar(0, 'int32'));
    const eager = tf.variableGrads(
      () =>
        // TensorFlow.js's own label-smoothed, class-weighted cross-entropy, the reference.
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(ids0, classes),
          model.logits(ids, mask, { training: true, dropoutSeed: 11 }, { ...(types && { types }) }),
          tf.mul(labelled, loss.classWeights ? tf.gather(tf.tensor1d([...loss.classWeights]), ids0) : 1),
          loss.labelSmoothing,
        ),
      [...model.params.values()],
    );
    // The graph's own loss inputs (the ones trainStep feeds it) must give TensorFlow.js's loss.
    const graph = runTrainingGraph(tf, model, {
      ids,
      mask,
      ...(types && { types }),
      ...lossTargets(tf, labels, classes, loss),
      dropoutSeed: 11,
    });
    const what = JSON.stringify({ head: head.name, ...config, ...loss, length, withTypes });
    assert.ok(Math.abs(eager.value.dataSync()[0]! - graph.loss.dataSync()[0]!) < 1e-5, `loss, ${what}`);
    for (const [name, variable] of model.params) {
      const expected = eager.grads[variable.name]!;
      const actual = graph.grads[name]!;
      assert.deepEqual(actual.shape, expected.shape, name);
      const scale = tf.max(tf.abs(expected)).dataSync()[0]!;
      const difference = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
      assert.ok(difference <= 1e-4 * (scale + 1e-3), `${name}: off by ${difference} (scale ${scale}), ${what}`);
    }
  });
  model.dispose();
}

/** Per-token labels as token classification has them: padding and every third token ignored. */
const tokenLabels = (size: number, length: number) =>
  Array.from({ length: size * length }, (_, i) => {
    const [row, t] = [Math.floor(i / length), i % length];
    return t >= length - (row % 4) || t % 3 === 0 ? IGNORED_LABEL : (i * 7) % 5;
  });

test('the training graph computes the loss and gradients TensorFlow.js computes, for every model variant', () => {
  compare(BASE, { labelSmoothing: 0 }, 16);
  compare({ ...BASE, pooling: 'mean', positional: 'learned', activation: 'relu' }, { labelSmoothing: 0.1 }, 24);
  compare({ ...BASE, dropout: 0, layers: 1 }, { labelSmoothing: 0, classWeights: [1, 2, 0.5, 0, 1] }, 12);
});

test('the token-classification head trains on the graph with the gradients TensorFlow.js computes', () => {
  compare(BASE, { labelSmoothing: 0 }, 16, tokenClassification.head, tokenLabels);
  compare(
    { ...BASE, positional: 'learned' },
    { labelSmoothing: 0.1, classWeights: [1, 2, 0.5, 0, 1] },
    12,
    tokenClassification.head,
    tokenLabels,
  );
});

const BERT: EncoderConfig = {
  ...BASE,
  layout: 'bert',
  positional: 'learned',
  activation: 'gelu_exact',
  layerNormEpsilon: 1e-12,
  tokenTypes: 2,
};

test('the BERT layout (post-norm, embedding norm, pooler, exact GELU) trains on the graph as TensorFlow.js does', () => {
  compare(BERT, { labelSmoothing: 0 }, 16);
  compare({ ...BERT, pooling: 'mean' }, { labelSmoothing: 0.1 }, 12);
  compare(BERT, { labelSmoothing: 0 }, 16, tokenClassification.head, tokenLabels);
});

/** Span labels: a start and an end position per row, some rows pointing at [CLS] (no answer). */
const spanLabels = (size: number, length: number) =>
  Array.from({ length: 2 * size }, (_, i) => (Math.floor(i / 2) % 3 === 0 ? 0 : (3 + i * 5) % (length - 4)));

test('the question-answering span head, with token types, trains on the graph as TensorFlow.js does', () => {
  compare({ ...BASE, classes: 2 }, { labelSmoothing: 0 }, 16, questionAnswering.head, spanLabels);
  compare({ ...BERT, classes: 2 }, { labelSmoothing: 0 }, 16, questionAnswering.head, spanLabels, true);
  compare({ ...BERT, classes: 2, dropout: 0 }, { labelSmoothing: 0.1 }, 12, questionAnswering.head, spanLabels, true);
  // Token types reach the model: the same ids as another segment give other logits.
  const model = new EncoderModel(tf, { ...BERT, classes: 2, dropout: 0 }, questionAnswering.head, 3);
  tf.tidy(() => {
    const { ids, mask } = paddedBatch(2, 8, BERT.vocabSize);
    const first = model.logits(ids, mask, { training: false });
    const second = model.logits(ids, mask, { training: false }, { types: tf.onesLike(ids) });
    assert.deepEqual(first.shape, [4, 8], 'a row of start and a row of end scores per sequence');
    assert.ok(tf.max(tf.abs(tf.sub(first, second))).dataSync()[0]! > 1e-3);
  });
  model.dispose();
});

test('a new head written once against ModelOps gets its graph backward pass derived, matching TensorFlow.js', () => {
  // What a new task would add: here every token votes, and the sequence's logits are the mean vote.
  const meanVote: EncoderHead = {
    name: 'mean-vote',
    pooled: false,
    logits: (o, p, config, inputs) => {
      const { mask } = inputs;
      const votes = o.reshape(tokenClassification.head.logits(o, p, config, inputs), [
        o.dim(mask, 0),
        o.dim(mask, 1),
        config.classes,
      ]);
      const column = o.reshape(mask, [o.dim(mask, 0), o.dim(mask, 1), 1]);
      return o.div(o.sum(o.mul(votes, column), [1], false), o.sum(mask, [1], true));
    },
  };
  compare(BASE, { labelSmoothing: 0 }, 16, meanVote);
});

test('the same batch and seed give bitwise the same gradients', () => {
  const model = new EncoderModel(tf, BASE, classification.head, 4);
  const run = () =>
    tf.tidy(() => {
      const result = runTrainingGraph(tf, model, {
        ids: tf.tensor2d(
          Int32Array.from({ length: 64 }, (_, i) => 1 + i),
          [4, 16],
          'int32',
        ),
        mask: tf.ones<Tf.Rank.R2>([4, 16]),
        targets: tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5).toFloat() as Tf.Tensor2D,
        weights: tf.fill<Tf.Rank.R1>([4], 0.25),
        dropoutSeed: 7,
      });
      return Object.values(result.grads).map((g) => Array.from(g.dataSync()));
    });
  assert.deepEqual(run(), run());
  model.dispose();
});

test('inference runs as a graph whose logits equal the TensorFlow.js forward pass, at any batch size and length, in the small-call graph and the general one', () => {
  for (const config of [
    { ...BASE, dropout: 0 },
    { ...BASE, dropout: 0, pooling: 'mean', positional: 'learned', activation: 'relu' } as const,
  ]) {
    const model = new EncoderModel(tf, config, classification.head, 5);
    const scores = (size: number, length: number) => size * config.heads * length * length;
    for (const [size, length, small] of [
      [1, 7, true],
      [5, 24, true],
      [16, 24, false],
    ] as const) {
      assert.equal(
        scores(size, length) <= SMALL_ATTENTION_SCORES,
        small,
        `${size}×${length} is not the case it stands for`,
      );
      tf.tidy(() => {
        const { ids, mask } = paddedBatch(size, length, config.vocabSize);
        // With dropout 0 a training pass computes the inference function, through TensorFlow.js ops.
        const eager = model.logits(ids, mask, { training: true, dropoutSeed: 0 });
        const graph = model.logits(ids, mask, { training: false });
        assert.deepEqual(graph.shape, [size, config.classes]);
        const difference = tf.max(tf.abs(tf.sub(graph, eager))).dataSync()[0]!;
        assert.ok(difference < 1e-4, `${config.pooling} pooling, ${size}×${length}: off by ${difference}`);
      });
    }
    model.dispose();
  }
});
