import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { beamSearch } from '../../ml/generation/beam-search';
import { decodeAll } from '../../ml/generation/decoding-run';
import { loadedGraphs, smallCall, smallGraphsServe } from '../../ml/graph/graph-runner';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { EncoderModel } from '../../ml/models/encoder-model';
import { classification } from '../../ml/tasks/classification';
import { seq2seq } from '../../ml/tasks/seq2seq';
import { warmUpGraphs } from '../../serve/graph-warm-up';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
  assert.equal(tf.getBackend(), 'tensorflow');
});

// Sizes no other test uses: graphs are kept per architecture, so these start with none loaded.
const ENCODER: EncoderConfig = {
  vocabSize: 53,
  maxLength: 96,
  layers: 1,
  hidden: 24,
  heads: 4,
  ffn: 40,
  dropout: 0,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
  classes: 3,
};

const ids = (rows: number, length: number) =>
  tf.tensor2d(
    Int32Array.from({ length: rows * length }, (_, i) => 2 + (i % 50)),
    [rows, length],
    'int32',
  );

test('a served encoder has its graphs loaded before its first request, small or large', () => {
  const model = new EncoderModel(tf, ENCODER, classification.head, 1);
  try {
    const before = loadedGraphs();
    warmUpGraphs(tf, model);
    assert.equal(loadedGraphs() - before, smallGraphsServe() ? 2 : 1, 'the inference graphs were loaded');
    const warmed = loadedGraphs();
    for (const [rows, length] of [
      [1, 12],
      [8, 96],
    ] as const) {
      tf.tidy(() => {
        const batch = ids(rows, length);
        if (smallGraphsServe()) assert.equal(smallCall(model, batch), rows === 1, `${rows}×${length}`);
        model.logits(batch, tf.ones([rows, length]), { training: false }).dataSync();
      });
    }
    assert.equal(loadedGraphs(), warmed, 'no request loaded a graph');
  } finally {
    model.dispose();
  }
});

test('a served encoder-decoder has its memory and decoding-step graphs loaded before its first reply', () => {
  const model = new EncoderModel(tf, { ...ENCODER, classes: 53, decoderLayers: 1, tiedOutput: true }, seq2seq.head, 1);
  try {
    const before = loadedGraphs();
    warmUpGraphs(tf, model);
    assert.equal(loadedGraphs() - before, smallGraphsServe() ? 3 : 2, 'the memory and step graphs were loaded');
    const warmed = loadedGraphs();
    const options = { padId: 0, startId: 1, stopId: 1, maxNewTokens: 4, minNewTokens: 4 };
    const source = (length: number) => Array.from({ length }, (_, i) => 2 + (i % 50));
    decodeAll(tf, model, [source(7)], options);
    decodeAll(
      tf,
      model,
      Array.from({ length: 8 }, () => source(90)),
      options,
    );
    beamSearch(tf, model, [source(30), source(60)], { ...options, beams: 4, lengthPenalty: 1 });
    assert.equal(loadedGraphs(), warmed, 'no reply loaded a graph');
  } finally {
    model.dispose();
  }
});
