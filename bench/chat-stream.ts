// Streaming chat completions through `pipewright serve` on loopback: time to first token and
// tokens/s of `POST /v1/chat/completions` with `stream: true`, one client and 8 at once (their
// replies decoded in one batch), for a seq2seq model the size of the chatbot example (2+2 blocks,
// hidden 128, ffn 256, byte-level BPE of 2,000 tokens trained on the bundled ChatterBot sample;
// seeded random weights: the cost does not depend on them). Greedy (`--temperature 0`) or sampled
// at the temperature given, with a seed per request; `max_tokens` 64.
// Usage: node dist/bench/chat-stream.js [--requests 20] [--concurrency 8] [--max-batch 8] [--intra-op-threads 0]
//   [--temperature 0]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EncoderModel } from '../ml/models/encoder-model';
import { seq2seq } from '../ml/tasks/seq2seq';
import { PreTokenCounter, trainByteLevelBpe } from '../ml/tokenizers/byte-level-bpe-trainer';
import { BPE_SPECIALS, saveTokenizer } from '../ml/tokenizers/tokenizer-file';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { saveCheckpoint } from '../ml/train/checkpoint';
import { GENERATION_DEFAULTS } from '../core/contracts/train';
import { PROJECT_ROOT } from '../worker/config';
import { freePort } from '../worker/dev-server';
import { openLocalState } from '../worker/local-state';
import { startServer, stopServer } from './serve-process';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const MAX_TOKENS = 64;

interface Dialogue {
  readonly context: string[];
  readonly response: string;
}

async function registerChatModel(home: string, dialogues: readonly Dialogue[]): Promise<void> {
  const { tf } = await loadBackend();
  const { store, registry } = openLocalState({ home });
  const counter = new PreTokenCounter();
  for (const d of dialogues) for (const turn of [...d.context, d.response]) counter.add(turn);
  const bpe = trainByteLevelBpe(counter.counts, {
    vocabSize: 2000,
    minFrequency: 2,
    specialTokens: [BPE_SPECIALS.pad, BPE_SPECIALS.eos],
  });
  const tokenizer = await saveTokenizer(
    store,
    { format: 'pipewright-tokenizer', version: 1, type: 'byte_level_bpe', ...bpe, seq2seq: { contextTurns: 3 } },
    {},
  );
  const config = {
    vocabSize: bpe.vocab.length,
    maxLength: 128,
    layers: 2,
    hidden: 128,
    heads: 4,
    ffn: 256,
    dropout: 0.1,
    activation: 'gelu' as const,
    positional: 'sinusoidal' as const,
    pooling: 'first' as const,
    classes: bpe.vocab.length,
    decoderLayers: 2,
    tiedOutput: true,
  };
  const model = new EncoderModel(tf, config, seq2seq.head, 1);
  const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
  const checkpoint = await saveCheckpoint(
    store,
    model,
    optimizer,
    { step: 0, epoch: 0, batchInEpoch: 0, seed: 1 },
    { task: 'seq2seq', labels: bpe.vocab, taskSettings: { generation: GENERATION_DEFAULTS } },
  );
  model.dispose();
  optimizer.dispose();
  const version = await registry.register({
    name: 'chatbot',
    task: 'seq2seq',
    checkpoint,
    tokenizer,
    labels: bpe.vocab,
    metrics: { perplexity: 0 },
    lineage: { pipeline: 'bench', workflowId: 'bench', runId: 'bench', step: 'v1', parents: [] },
    deployKey: 'bench/1',
  });
  await registry.promote('chatbot', version.version);
}

/** One streamed reply as the client saw it. */
interface Stream {
  /** From sending the request to the first chunk with reply text. */
  readonly firstTokenMs: number;
  readonly totalMs: number;
  readonly tokens: number;
}

async function streamOnce(port: number, dialogue: Dialogue, temperature: number, seed: number): Promise<Stream> {
  const messages = [...dialogue.context, dialogue.response].slice(-3).map((content, i, all) => ({
    role: (all.length - i) % 2 === 1 ? 'user' : 'assistant',
    content,
  }));
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'chatbot',
      messages,
      temperature,
      seed,
      max_tokens: MAX_TOKENS,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!response.ok || !response.body) throw new Error(`status ${response.status}: ${await response.text()}`);
  let firstTokenMs: number | undefined;
  let tokens: number | undefined;
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    const events = pending.split('\n\n');
    pending = events.pop()!;
    for (const event of events) {
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      const parsed = JSON.parse(data) as {
        choices: { delta: { content?: string } }[];
        usage?: { completion_tokens: number };
      };
      if (firstTokenMs === undefined && parsed.choices[0]?.delta.content) firstTokenMs = performance.now() - started;
      if (parsed.usage) tokens = parsed.usage.completion_tokens;
    }
  }
  if (firstTokenMs === undefined || tokens === undefined) throw new Error('the stream had no text or no usage');
  return { firstTokenMs, totalMs: performance.now() - started, tokens };
}

const percentile = (values: readonly number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

async function main(): Promise<void> {
  const requests = arg('requests', 20);
  const concurrency = arg('concurrency', 8);
  const maxBatch = arg('max-batch', 8);
  const threads = arg('intra-op-threads', 0);
  const temperature = arg('temperature', 0);
  const dialogues = readFileSync(join(PROJECT_ROOT, 'pipelines', 'data', 'chatterbot-en-sample.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Dialogue);
  // Conversations that fit the model's 128 positions (a longer one is rightly refused with a 400).
  const short = dialogues.filter((d) => [...d.context, d.response].slice(-3).join(' ').length < 200);
  const home = mkdtempSync(join(tmpdir(), 'pipewright-chat-bench-'));
  try {
    await registerChatModel(home, dialogues);
    const port = await freePort();
    const server = await startServer(home, port, 'chatbot', [
      '--max-batch',
      String(maxBatch),
      '--max-wait-ms',
      '5',
      '--intra-op-threads',
      String(threads),
    ]);
    try {
      for (let i = 0; i < 4; i++) await streamOnce(port, short[i]!, temperature, i);
      console.log(
        `seq2seq 2+2 blocks, hidden 128, ffn 256, vocabulary 2,000; ${temperature === 0 ? 'greedy' : `temperature ${temperature}`}, max_tokens ${MAX_TOKENS}; --max-batch ${maxBatch} --intra-op-threads ${threads}`,
      );
      console.log(
        '| clients | streams | time to first token p50 / p99 ms | tokens per reply | tokens/s per stream | tokens/s all |',
      );
      console.log('| --- | --- | --- | --- | --- | --- |');
      for (const clients of [1, concurrency]) {
        const streams: Stream[] = [];
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: clients }, async () => {
            while (next < requests * clients) {
              const seed = next++;
              streams.push(await streamOnce(port, short[seed % short.length]!, temperature, seed));
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        const first = streams.map((s) => s.firstTokenMs);
        const tokens = streams.reduce((a, s) => a + s.tokens, 0);
        const perStream = percentile(
          streams.map((s) => (s.tokens - 1) / ((s.totalMs - s.firstTokenMs) / 1000)),
          50,
        );
        console.log(
          `| ${clients} | ${streams.length} | ${percentile(first, 50).toFixed(1)} / ${percentile(first, 99).toFixed(1)} | ${(tokens / streams.length).toFixed(1)} | ${perStream.toFixed(1)} | ${(tokens / seconds).toFixed(1)} |`,
        );
      }
    } finally {
      await stopServer(server);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
