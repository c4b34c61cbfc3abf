import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { classificationMetrics } from '../../ml/metrics/classification-metrics';
import { EncoderModel } from '../../ml/models/encoder-model';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { learningRate } from '../../ml/train/lr-schedule';
import { classification } from '../../ml/tasks/classification';
import { encoderObjective, type EncoderBatch } from '../../ml/tasks/encoder-objective';
import { trainStep } from '../../ml/train/train-step';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
});

const CONFIG: EncoderConfig = {
  vocabSize: 50,
  maxLength: 8,
  layers: 2,
  hidden: 16,
  heads: 2,
  ffn: 32,
  dropout: 0.1,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
  classes: 3,
};

/** A toy task the model must learn: the class is the first content token modulo 3. */
function toyBatch(size: number, offset = 0): EncoderBatch {
  const ids = new Int32Array(size * 8);
  const mask = new Int32Array(size * 8);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const n = 3 + ((i + offset) % 5);
    for (let j = 0; j < n; j++) {
      ids[i * 8 + j] = j === 0 ? 1 : 5 + ((i * 7 + j * 3 + offset) % 40);
      mask[i * 8 + j] = 1;
    }
    labels[i] = ids[i * 8 + 1]! % 3;
  }
  return { ids, mask, labels, size, length: 8 };
}

function weights(model: EncoderModel): Float32Array[] {
  return [...model.params.values()].map((v) => v.dataSync() as Float32Array);
}

describe('transformer encoder classifier', () => {
  test('logits have shape [batch, classes], and padding does not change them', () => {
    const model = new EncoderModel(tf, { ...CONFIG, pooling: 'mean' }, classification.head, 1);
    const batch = toyBatch(4);
    const padded = Int32Array.from(batch.ids, (id, i) => (batch.mask[i] ? id : 17 + (i % 9)));
    const run = (ids: Int32Array) =>
      tf.tidy(() =>
        model
          .logits(tf.tensor2d(ids, [4, 8], 'int32'), tf.tensor2d(batch.mask, [4, 8], 'float32'), { training: false })
          .arraySync(),
      );
    const a = run(batch.ids);
    const b = run(padded);
    assert.deepEqual([a.length, a[0]!.length], [4, 3]);
    a.flat().forEach((x, i) => assert.ok(Math.abs(x - b.flat()[i]!) < 1e-4, `logit ${i}: ${x} vs ${b.flat()[i]}`));
    model.dispose();
  });

  test('training learns a toy task, and the tensor count stays flat over many steps', () => {
    const model = new EncoderModel(tf, CONFIG, classification.head, 2);
    const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
    const before = tf.memory().numTensors;
    let first = 0;
    let last = 0;
    for (let step = 0; step < 300; step++) {
      const { loss } = trainStep(
        tf,
        encoderObjective(tf, model, { labelSmoothing: 0 }),
        optimizer,
        toyBatch(16, step),
        3e-3,
        step,
      );
      if (step === 0) first = loss;
      last = loss;
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks across 300 steps');
    assert.ok(last < first / 4, `loss fell from ${first} to ${last}`);
    model.dispose();
    optimizer.dispose();
  });

  test('same seeds give bitwise-identical weights; another dropout seed gives different ones', () => {
    const trainFor = (dropoutBase: number) => {
      const model = new EncoderModel(tf, CONFIG, classification.head, 3);
      const optimizer = new AdamW(tf, model.params, { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
      for (let step = 0; step < 5; step++)
        trainStep(
          tf,
          encoderObjective(tf, model, { labelSmoothing: 0.1 }),
          optimizer,
          toyBatch(8, step),
          1e-3,
          dropoutBase + step,
        );
      const out = weights(model);
      model.dispose();
      optimizer.dispose();
      return out;
    };
    const a = trainFor(0);
    assert.deepEqual(trainFor(0), a);
    assert.notDeepEqual(trainFor(100), a);
  });
});

describe('optimizer and schedule', () => {
  test('AdamW follows the update rule, with decoupled weight decay and global-norm clipping', () => {
    const p = tf.variable(tf.tensor1d([1, -2]), true, 'w/kernel');
    const optimizer = new AdamW(tf, new Map([['w/kernel', p]]), { ...ADAMW_DEFAULTS, weightDecay: 0.1, clipNorm: 1 });
    const norm = optimizer.apply({ 'w/kernel': tf.tensor1d([3, 4]) }, 0.01);
    assert.equal(norm, 5);
    // Clipped gradient (0.6, 0.8); the first bias-corrected Adam step is g/|g| per element, i.e. ±1.
    const [a, b] = p.dataSync();
    assert.ok(Math.abs(a! - (1 - 0.01 * (1 + 0.1 * 1))) < 1e-6, String(a));
    assert.ok(Math.abs(b! - (-2 - 0.01 * (1 + 0.1 * -2))) < 1e-6, String(b));
    optimizer.dispose();
    p.dispose();
  });

  test('learning-rate schedules: warmup, then constant, linear or cosine decay', () => {
    const base = { peak: 1, warmupSteps: 10, totalSteps: 110 };
    assert.equal(learningRate({ ...base, kind: 'linear' }, 0), 0.1);
    assert.equal(learningRate({ ...base, kind: 'linear' }, 9), 1);
    assert.equal(learningRate({ ...base, kind: 'linear' }, 60), 0.5);
    assert.equal(learningRate({ ...base, kind: 'constant' }, 100), 1);
    assert.ok(Math.abs(learningRate({ ...base, kind: 'cosine' }, 60) - 0.5) < 1e-12);
    assert.equal(learningRate({ ...base, kind: 'cosine' }, 110), 0);
  });
});

test('metrics: accuracy, macro-F1, per-class scores and the confusion matrix', () => {
  const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['a', 'b', 'c']);
  assert.equal(m.accuracy, 4 / 6);
  assert.deepEqual(m.confusion, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  assert.deepEqual(
    m.perClass.map((c) => [c.label, c.precision, c.recall, c.support]),
    [
      ['a', 1, 2 / 3, 3],
      ['b', 0.5, 0.5, 2],
      ['c', 0.5, 1, 1],
    ],
  );
  assert.ok(Math.abs(m.f1Macro - (0.8 + 0.5 + 2 / 3) / 3) < 1e-12);
});
