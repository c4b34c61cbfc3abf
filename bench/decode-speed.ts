// Autoregressive decoding speed of a seq2seq model the size of the chatbot example (2+2 blocks,
// hidden 128, ffn 512, 8,000 tokens; seeded random weights: the cost does not depend on them):
// tokens/s generating 64 new tokens greedily at batch 1 and 8, with the key/value cache and by
// re-running the prefix at every step, in alternating rounds; prints medians and the cache's
// speed-up. (A PyTorch reference of the same model is still to come.)
// Usage: node dist/bench/decode-speed.js [--rounds 3] [--tokens 64]
import { loadBackend } from '../ml/backend/load-backend';
import { decodeAll } from '../ml/generation/decoding-run';
import type { EncoderConfig } from '../ml/models/encoder-config';
import { EncoderModel } from '../ml/models/encoder-model';
import { seq2seq } from '../ml/tasks/seq2seq';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { tf, backend } = await loadBackend();
  const rounds = arg('rounds', 3);
  const tokens = arg('tokens', 64);
  const config: EncoderConfig = {
    vocabSize: 8000,
    maxLength: tokens + 16,
    layers: 2,
    hidden: 128,
    heads: 4,
    ffn: 512,
    dropout: 0.1,
    activation: 'gelu',
    positional: 'sinusoidal',
    pooling: 'first',
    classes: 8000,
    decoderLayers: 2,
    tiedOutput: true,
  };
  const model = new EncoderModel(tf, config, seq2seq.head, 1);
  // The stop token is held back for all `tokens` steps, so every sequence gets exactly that many.
  const options = { padId: 0, startId: 1, stopId: 1, maxNewTokens: tokens, minNewTokens: tokens };
  const cases = [1, 8].flatMap((batch) => [true, false].map((useCache) => ({ batch, useCache })));
  const times = new Map(cases.map((c) => [JSON.stringify(c), [] as number[]]));
  const sources = (batch: number) =>
    Array.from({ length: batch }, (_, r) => Array.from({ length: 32 }, (_, i) => 2 + ((r * 31 + i * 7) % 7990)));
  for (const c of cases)
    decodeAll(tf, model, sources(c.batch), { ...options, maxNewTokens: 4, minNewTokens: 4, useCache: c.useCache });
  for (let round = 0; round < rounds; round++)
    for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
      const started = performance.now();
      const out = decodeAll(tf, model, sources(c.batch), { ...options, useCache: c.useCache });
      const seconds = (performance.now() - started) / 1000;
      if (out.some((t) => t.length !== tokens)) throw new Error('a sequence ended early');
      times.get(JSON.stringify(c))!.push(seconds);
    }
  console.log(`backend ${backend}; ${tokens} new tokens per sequence, source 32 tokens, ${rounds} rounds, medians`);
  for (const batch of [1, 8]) {
    const rate = (useCache: boolean) => (batch * tokens) / median(times.get(JSON.stringify({ batch, useCache }))!);
    console.log(
      `batch ${batch}: with the cache ${rate(true).toFixed(1)} tokens/s, without ${rate(false).toFixed(1)} tokens/s, cache ${(rate(true) / rate(false)).toFixed(2)}× faster`,
    );
  }
  model.dispose();
}

if (require.main === module) void main();
