import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { bannedTokens } from '../../ml/generation/banned-tokens';
import { beamSearch } from '../../ml/generation/beam-search';
import { decodeAll } from '../../ml/generation/decoding-run';
import { IncrementalDecoder } from '../../ml/generation/incremental-decoder';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { EncoderModel } from '../../ml/models/encoder-model';
import { seq2seq } from '../../ml/tasks/seq2seq';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
});

const VOCABULARY = 12;
const CONFIG: EncoderConfig = {
  vocabSize: VOCABULARY,
  maxLength: 24,
  layers: 1,
  hidden: 16,
  heads: 2,
  ffn: 32,
  dropout: 0,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
  classes: VOCABULARY,
  decoderLayers: 2,
  tiedOutput: true,
};
const STOP = 1;
const SOURCES = [
  [3, 4, 5, 1],
  [9, 1],
];

const logSoftmax = (row: Float32Array) => {
  const top = Math.max(...row);
  const shift = top + Math.log(row.reduce((a, x) => a + Math.exp(x - top), 0));
  return Array.from(row, (x) => x - shift);
};

/** Every reply of at most two tokens (a stop token ends one early) with its summed log-probability. */
function allShortReplies(
  model: EncoderModel,
  source: readonly number[],
): { tokens: number[]; logProbability: number }[] {
  const decoder = new IncrementalDecoder(tf, model, [source], 0, true, VOCABULARY);
  try {
    const first = decoder.step(Array<number>(VOCABULARY).fill(STOP));
    const firstRow = logSoftmax((first.dataSync() as Float32Array).slice(0, VOCABULARY));
    first.dispose();
    // Row t continues with token t.
    const second = decoder.step([...Array(VOCABULARY).keys()]);
    const values = second.dataSync() as Float32Array;
    second.dispose();
    const replies: { tokens: number[]; logProbability: number }[] = [{ tokens: [], logProbability: firstRow[STOP]! }];
    for (let t = 0; t < VOCABULARY; t++) {
      if (t === STOP) continue;
      const next = logSoftmax(values.slice(t * VOCABULARY, (t + 1) * VOCABULARY));
      next.forEach((lp, u) => replies.push({ tokens: u === STOP ? [t] : [t, u], logProbability: firstRow[t]! + lp }));
    }
    return replies;
  } finally {
    decoder.dispose();
  }
}

test('with as many beams as tokens, beam search finds the likeliest reply, checked against all replies of up to two tokens', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 3);
  try {
    const options = { padId: 0, startId: STOP, stopId: STOP, maxNewTokens: 2, beams: VOCABULARY, lengthPenalty: 0 };
    const found = beamSearch(tf, model, SOURCES, options);
    SOURCES.forEach((source, s) => {
      const best = allShortReplies(model, source).reduce((a, b) => (b.logProbability > a.logProbability ? b : a));
      assert.deepEqual(found[s], best.tokens, `source ${s}`);
    });
  } finally {
    model.dispose();
  }
});

test('beam search: cache or not, the same replies; no tensors left; min_new_tokens and the token limit hold', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 4);
  try {
    const options = {
      padId: 0,
      startId: STOP,
      stopId: STOP,
      maxNewTokens: 8,
      minNewTokens: 3,
      beams: 3,
      lengthPenalty: 1,
    };
    // The model keeps one tensor of its own for decoding (its token embeddings transposed), made at first use.
    beamSearch(tf, model, SOURCES, options);
    const before = tf.memory().numTensors;
    const cached = beamSearch(tf, model, SOURCES, options);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind');
    assert.deepEqual(beamSearch(tf, model, SOURCES, { ...options, useCache: false }), cached);
    for (const reply of cached)
      assert.ok(reply.length >= 3 && reply.length <= 8 && !reply.includes(STOP), reply.join(' '));
    assert.throws(() => beamSearch(tf, model, SOURCES, { ...options, beams: 1 }), /at least 2 beams/);
  } finally {
    model.dispose();
  }
});

test('no_repeat_ngram: greedy, sampled and beam-searched replies never repeat an n-gram that an unconstrained reply does repeat', () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 5);
  const repeats = (tokens: readonly number[], n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      if (seen.has(key)) return true;
      seen.add(key);
    }
    return false;
  };
  try {
    const base = { padId: 0, startId: STOP, stopId: STOP, maxNewTokens: 20, minNewTokens: 20 };
    // A small random model loops: greedy replies of 20 tokens over 11 repeat some pair.
    const free = decodeAll(tf, model, SOURCES, base);
    assert.ok(
      free.some((reply) => repeats(reply, 2)),
      'the unconstrained replies repeat a bigram',
    );
    const sampling = SOURCES.map((_, seed) => ({ temperature: 1, topP: 1, topK: 0, seed }));
    const replies = [
      ...decodeAll(tf, model, SOURCES, { ...base, noRepeatNgram: 2 }),
      ...decodeAll(tf, model, SOURCES, { ...base, noRepeatNgram: 2, sampling }),
      ...beamSearch(tf, model, SOURCES, { ...base, noRepeatNgram: 2, beams: 2, lengthPenalty: 1 }),
    ];
    for (const reply of replies) {
      assert.equal(reply.length, 20);
      assert.ok(!repeats(reply, 2), `${reply.join(' ')} repeats a bigram`);
    }
  } finally {
    model.dispose();
  }
});

test('bannedTokens: the stop token before the minimum, and the ends of n-grams already generated', () => {
  const bans = { stopId: 1, minNewTokens: 2, noRepeatNgram: 3 };
  assert.deepEqual([...bannedTokens([], bans)], [1]);
  assert.deepEqual([...bannedTokens([5, 6, 7, 5, 6], bans)], [7]);
  assert.deepEqual([...bannedTokens([5, 6, 5, 6, 9, 5, 6], bans)], [5, 9]);
  assert.deepEqual([...bannedTokens([4, 4, 4], { ...bans, noRepeatNgram: 1 })], [4]);
  assert.deepEqual([...bannedTokens([4, 4, 4], { ...bans, noRepeatNgram: 0 })], []);
});
