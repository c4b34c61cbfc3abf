import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { decodeAll, DecodingRun } from '../../ml/generation/decoding-run';
import { IncrementalDecoder } from '../../ml/generation/incremental-decoder';
import { SMALL_ATTENTION_SCORES } from '../../ml/graph/encoder-graph';
import { runMemoryGraph, runTrainingGraph } from '../../ml/graph/graph-runner';
import { encodeMemory } from '../../ml/models/decoder';
import { EagerOps } from '../../ml/models/eager-ops';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { EncoderModel } from '../../ml/models/encoder-model';
import { lossTargets } from '../../ml/tasks/encoder-objective';
import type { SamplingOptions } from '../../ml/generation/sampling';
import { seq2seq } from '../../ml/tasks/seq2seq';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
  assert.equal(tf.getBackend(), 'tensorflow');
});

const CONFIG: EncoderConfig = {
  vocabSize: 40,
  maxLength: 20,
  layers: 2,
  hidden: 32,
  heads: 4,
  ffn: 64,
  dropout: 0.1,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
  classes: 40,
  decoderLayers: 2,
  tiedOutput: true,
};

/** Source ids [size, length] whose rows end r mod 3 tokens early, and decoder ids [size, targetLength]. */
function batchOf(size: number, length: number, targetLength: number) {
  const ids = Int32Array.from({ length: size * length }, (_, i) => 2 + ((i * 7) % 37));
  const mask = Float32Array.from({ length: size * length }, (_, i) =>
    i % length < length - (Math.floor(i / length) % 3) ? 1 : 0,
  );
  const decoderIds = Int32Array.from({ length: size * targetLength }, (_, i) => 1 + ((i * 11) % 38));
  return {
    ids: tf.tensor2d(ids, [size, length], 'int32'),
    mask: tf.tensor2d(mask, [size, length]),
    decoderIds: tf.tensor2d(decoderIds, [size, targetLength], 'int32'),
  };
}

for (const config of [CONFIG, { ...CONFIG, tiedOutput: false, positional: 'learned' as const, decoderLayers: 1 }]) {
  test(`the seq2seq training graph gives TensorFlow.js's loss and gradients (tied ${config.tiedOutput}, ${config.positional} positions)`, () => {
    const model = new EncoderModel(tf, config, seq2seq.head, 5);
    try {
      tf.tidy(() => {
        const { ids, mask, decoderIds } = batchOf(4, 9, 7);
        // Padding targets (the last two positions of odd rows) take no part in the loss.
        const labels = tf.tensor1d(
          Int32Array.from({ length: 4 * 7 }, (_, i) =>
            Math.floor(i / 7) % 2 === 1 && i % 7 >= 5 ? -100 : (i * 3) % 40,
          ),
          'int32',
        );
        const { targets, weights } = lossTargets(tf, labels, 40, { labelSmoothing: 0.1 });
        const eager = tf.variableGrads(
          () =>
            tf.losses.softmaxCrossEntropy(
              targets,
              model.logits(ids, mask, { training: true, dropoutSeed: 3 }, { decoderIds }),
              weights,
              0,
              tf.Reduction.SUM,
            ),
          [...model.params.values()],
        );
        const graph = runTrainingGraph(tf, model, { ids, mask, decoderIds, targets, weights, dropoutSeed: 3 });
        assert.ok(Math.abs(eager.value.dataSync()[0]! - graph.loss.dataSync()[0]!) < 1e-5, 'loss');
        for (const [name, variable] of model.params) {
          const expected = eager.grads[variable.name]!;
          const actual = graph.grads[name]!;
          const scale = tf.max(tf.abs(expected)).dataSync()[0]!;
          const difference = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
          assert.ok(difference <= 1e-4 * (scale + 1e-3), `${name}: off by ${difference} (scale ${scale})`);
        }
      });
    } finally {
      model.dispose();
    }
  });
}

test("the source's memory for decoding, from the small-call graph and from the general one, is TensorFlow.js's", () => {
  const config = { ...CONFIG, maxLength: 64 };
  const model = new EncoderModel(tf, config, seq2seq.head, 4);
  try {
    for (const [size, length, small] of [
      [2, 9, true],
      [4, 50, false],
    ] as const) {
      assert.equal(size * config.heads * length * length <= SMALL_ATTENTION_SCORES, small, `${size}×${length}`);
      tf.tidy(() => {
        const { ids, mask } = batchOf(size, length, 1);
        const graph = runMemoryGraph(tf, model, { ids, mask });
        const eager = encodeMemory(new EagerOps(tf, { training: false }), model.lookup, config, {
          ids,
          mask,
          positions: model.positionEncodings(length),
        });
        const pairs = [
          ...graph.keys.map((k, l) => [k, eager.keys[l]!]),
          ...graph.values.map((v, l) => [v, eager.values[l]!]),
          [graph.bias, eager.bias],
        ];
        for (const [a, b] of pairs) {
          assert.deepEqual(a!.shape, b!.shape);
          const off = tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0]!;
          assert.ok(off < 1e-4, `${size}×${length}: off by ${off}`);
        }
      });
    }
  } finally {
    model.dispose();
  }
});

test('decoding with the key/value cache gives the logits of re-running the prefix, step by step', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 9);
  const sources = [
    [3, 4, 5, 6, 1],
    [7, 8, 1],
  ];
  const cached = new IncrementalDecoder(tf, model, sources, 0, true);
  const uncached = new IncrementalDecoder(tf, model, sources, 0, false);
  try {
    let tokens = [1, 1];
    const fed: number[][] = [[], []];
    let last: Float32Array | undefined;
    for (let t = 0; t < 8; t++) {
      tokens.forEach((token, r) => fed[r]!.push(token));
      const a = cached.step(tokens);
      const b = uncached.step(tokens);
      const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
      assert.ok(difference < 1e-4, `step ${t}: off by ${difference}`);
      tokens = Array.from(tf.tidy(() => tf.argMax(a, 1).dataSync() as Int32Array));
      last = a.dataSync() as Float32Array;
      tf.dispose([a, b]);
    }
    assert.equal(cached.room, CONFIG.maxLength - 8);
    // The whole-sequence pass (the inference graph) scores the last position as the cached step did.
    const whole = tf.tidy(() => {
      const ids = tf.tensor2d(
        [
          [3, 4, 5, 6, 1],
          [7, 8, 1, 0, 0],
        ],
        undefined,
        'int32',
      );
      const mask = tf.tensor2d([
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ]);
      const logits = model.logits(ids, mask, { training: false }, { decoderIds: tf.tensor2d(fed, undefined, 'int32') });
      return tf.reshape(logits, [2, 8, -1]).slice([0, 7, 0], [-1, 1, -1]).dataSync() as Float32Array;
    });
    const worst = Math.max(...whole.map((x, i) => Math.abs(x - last![i]!)));
    assert.ok(worst < 1e-4, `the whole-sequence pass is off by ${worst}`);
  } finally {
    cached.dispose();
    uncached.dispose();
    model.dispose();
  }
});

/** The decoder's logits per step for `histories` (one token per row per step), on the graph or the TensorFlow.js path. */
function stepLogits(
  model: EncoderModel,
  decoder: () => IncrementalDecoder,
  histories: readonly (readonly number[])[],
  graphs: boolean,
  reorder?: { after: number; rows: number[] },
): Float32Array[] {
  const saved = process.env.PIPEWRIGHT_TF_GRAPHS;
  process.env.PIPEWRIGHT_TF_GRAPHS = graphs ? 'on' : 'off';
  const run = decoder();
  process.env.PIPEWRIGHT_TF_GRAPHS = saved;
  try {
    return histories[0]!.map((_, t) => {
      if (reorder && t === reorder.after) run.reorder(reorder.rows);
      const logits = run.step(histories.map((h) => h[t]!));
      const values = logits.dataSync() as Float32Array;
      logits.dispose();
      return values;
    });
  } finally {
    run.dispose();
  }
}

const largestDifference = (a: readonly Float32Array[], b: readonly Float32Array[]) =>
  Math.max(...a.map((x, t) => Math.max(...x.map((v, i) => Math.abs(v - b[t]![i]!)))));

for (const config of [CONFIG, { ...CONFIG, tiedOutput: false, positional: 'learned' as const, decoderLayers: 1 }]) {
  test(`the decoding-step graph gives TensorFlow.js's logits, and reordering rows continues their histories (${config.positional} positions)`, () => {
    const model = new EncoderModel(tf, config, seq2seq.head, 5);
    const sources = [
      [3, 4, 5, 6, 1],
      [7, 8, 1],
    ];
    // Two copies of each source: rows 0, 1 read source 0; rows 2, 3 source 1.
    const histories = [
      [1, 5, 6, 7, 8, 9],
      [1, 9, 10, 11, 12, 13],
      [1, 14, 15, 16, 17, 18],
      [1, 19, 20, 21, 22, 23],
    ];
    // After 3 tokens, rows continue rows 1, 1, 3, 2: as if those had been fed from the start.
    const rows = [1, 1, 3, 2];
    const reordered = rows.map((from, r) => [...histories[from]!.slice(0, 3), ...histories[r]!.slice(3)]);
    try {
      for (const useCache of [true, false]) {
        const decoder = () => new IncrementalDecoder(tf, model, sources, 0, useCache, 2);
        const eager = stepLogits(model, decoder, histories, false);
        const graph = stepLogits(model, decoder, histories, true);
        const gap = largestDifference(graph, eager);
        assert.ok(gap < 1e-4, `cache ${useCache}: the graph is off by ${gap}`);
        for (const graphs of [false, true]) {
          const moved = stepLogits(model, decoder, histories, graphs, { after: 3, rows });
          const fresh = stepLogits(model, decoder, reordered, graphs);
          const off = largestDifference(moved.slice(3), fresh.slice(3));
          assert.ok(off < 1e-5, `cache ${useCache}, graphs ${graphs}: reordered rows are off by ${off}`);
        }
      }
    } finally {
      model.dispose();
    }
  });
}

for (const config of [CONFIG, { ...CONFIG, tiedOutput: false, positional: 'learned' as const, decoderLayers: 1 }]) {
  test(`rows that join a running decoder, and rows it lets go, get the logits they get decoded alone (${config.positional} positions)`, () => {
    const model = new EncoderModel(tf, config, seq2seq.head, 6);
    const first = [
      [3, 4, 5, 6, 1],
      [7, 8, 1],
    ];
    const late = [10, 11, 12, 13, 14, 15, 16, 1];
    // Token histories: the rows of `first` from step 0, the late row from step 3.
    const histories = [
      [1, 5, 6, 7, 8, 9, 10, 11],
      [1, 9, 10, 11, 12, 13, 14, 15],
    ];
    const lateHistory = [1, 20, 21, 22, 23];
    const saved = process.env.PIPEWRIGHT_TF_GRAPHS;
    try {
      for (const graphs of [false, true]) {
        process.env.PIPEWRIGHT_TF_GRAPHS = graphs ? 'on' : 'off';
        const alone = (sources: number[][], rows: number[][]) =>
          stepLogits(model, () => new IncrementalDecoder(tf, model, sources, 0), rows, graphs);
        const firstAlone = alone(first, histories);
        const lateAlone = alone([late], [lateHistory]);
        const vocabulary = firstAlone[0]!.length / 2;
        const row = (values: Float32Array, r: number) => values.subarray(r * vocabulary, (r + 1) * vocabulary);
        const gap = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
        const decoder = new IncrementalDecoder(tf, model, first, 0);
        const before = tf.memory().numTensors;
        try {
          for (let t = 0; t < 8; t++) {
            if (t === 3) decoder.join([late]);
            // After step 5 the first row ends; after step 6 the second: the late row goes on alone.
            if (t === 6) decoder.keep([1, 2]);
            if (t === 7) decoder.keep([1]);
            const rows = t < 3 ? [0, 1] : t < 6 ? [0, 1, 2] : t < 7 ? [1, 2] : [2];
            const fed = rows.map((r) => (r < 2 ? histories[r]![t]! : lateHistory[t - 3]!));
            const logits = decoder.step(fed);
            const values = logits.dataSync() as Float32Array;
            logits.dispose();
            rows.forEach((r, i) => {
              const expected = r < 2 ? row(firstAlone[t]!, r) : lateAlone[t - 3]!;
              const off = gap(row(values, i), expected);
              assert.ok(off < 1e-4, `graphs ${graphs}, step ${t}, row ${r}: off by ${off}`);
            });
          }
          assert.equal(decoder.rows, 1);
          assert.equal(decoder.roomOf(0), config.maxLength - 5);
        } finally {
          decoder.dispose();
        }
        assert.ok(tf.memory().numTensors < before, 'the decoder let go of its tensors');
      }
    } finally {
      process.env.PIPEWRIGHT_TF_GRAPHS = saved;
      model.dispose();
    }
  });
}

test('decoding steps on graphs read the token embeddings as they are after an assignment', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 4);
  const sources = [[3, 4, 5, 1]];
  const histories = [[1, 6, 7, 8]];
  const decoder = () => new IncrementalDecoder(tf, model, sources, 0);
  try {
    const before = stepLogits(model, decoder, histories, true);
    const tokens = model.params.get('embedding/tokens')!;
    tf.tidy(() => tokens.assign(tf.mul(tokens, 1.5)));
    const graph = stepLogits(model, decoder, histories, true);
    const eager = stepLogits(model, decoder, histories, false);
    assert.ok(largestDifference(graph, before) > 1e-2, 'the new embeddings change the logits');
    const gap = largestDifference(graph, eager);
    assert.ok(gap < 1e-4, `the graph is off by ${gap} after the assignment`);
  } finally {
    model.dispose();
  }
});

test('greedy decoding with and without the cache produces the same tokens and leaks no tensors', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 9);
  try {
    const sources = [
      [3, 4, 5, 1],
      [9, 1],
      [10, 11, 12, 13, 14, 1],
    ];
    const options = { padId: 0, startId: 1, stopId: 1, maxNewTokens: 12 };
    // The model keeps one tensor of its own for decoding (its token embeddings transposed), made at first use.
    decodeAll(tf, model, sources, options);
    const before = tf.memory().numTensors;
    const withCache = decodeAll(tf, model, sources, options);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind');
    const withoutCache = decodeAll(tf, model, sources, { ...options, useCache: false });
    assert.deepEqual(withCache, withoutCache);
    assert.ok(withCache.every((tokens) => tokens.length <= 12 && !tokens.includes(1)));
  } finally {
    model.dispose();
  }
});

test('sampling: the same seed gives the same tokens, top-k 1 and a tiny top-p are greedy, a stopped run frees its tensors', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 9);
  try {
    const sources = [
      [3, 4, 5, 1],
      [3, 4, 5, 1],
      [3, 4, 5, 1],
    ];
    const base = { padId: 0, startId: 1, stopId: 1, maxNewTokens: 12, minNewTokens: 12 };
    const sampled = (seeds: number[], extra: Partial<SamplingOptions> = {}) =>
      decodeAll(tf, model, sources, {
        ...base,
        sampling: seeds.map((seed) => ({ temperature: 1.5, topP: 1, topK: 0, seed, ...extra })),
      });
    const [a, b, c] = sampled([7, 7, 8]);
    assert.deepEqual(a, b, 'same seed, same tokens');
    assert.notDeepEqual(a, c, 'another seed, other tokens');
    assert.deepEqual(sampled([7, 8, 9]), sampled([7, 8, 9]), 'reproducible');
    const greedy = decodeAll(tf, model, sources, base);
    assert.deepEqual(sampled([1, 2, 3], { topK: 1 }), greedy);
    assert.deepEqual(sampled([1, 2, 3], { topP: 1e-6 }), greedy);
    assert.ok(
      greedy.every((tokens) => tokens.length === 12 && !tokens.includes(1)),
      'min_new_tokens holds the stop token back',
    );

    const before = tf.memory().numTensors;
    const run = new DecodingRun(tf, model, sources, base);
    run.step();
    run.step();
    run.stop(0);
    run.step();
    assert.deepEqual(
      run.tokens.map((t) => t.length),
      [2, 3, 3],
    );
    run.stop(1);
    run.stop(2);
    assert.ok(run.done);
    assert.deepEqual(run.finished, ['cancelled', 'cancelled', 'cancelled']);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  } finally {
    model.dispose();
  }
});
