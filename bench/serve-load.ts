// Load test of `pipewright serve` on loopback: requests/s and p50/p99 latency at concurrency 1 and
// 32, with micro-batching and without, and across a hot swap to a newly deployed version.
// The server runs as its own process (the real CLI); this process generates the load.
// Usage: node dist/bench/serve-load.js [--seconds 5] [--concurrency 32]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EncoderModel } from '../ml/models/encoder-model';
import { classification } from '../ml/tasks/classification';
import { saveTokenizer } from '../ml/tokenizers/tokenizer-file';
import { bertBaseUncasedVocab } from '../ml/tokenizers/vocab-files';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { saveCheckpoint } from '../ml/train/checkpoint';
import { freePort } from '../worker/dev-server';
import { startServer, stopServer } from './serve-process';
import { PROJECT_ROOT } from '../worker/config';
import { openLocalState } from '../worker/local-state';

const LABELS = [
  'AddToPlaylist',
  'BookRestaurant',
  'GetWeather',
  'PlayMusic',
  'RateBook',
  'SearchCreativeWork',
  'SearchScreeningEvent',
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Registers two versions of a SNIPS-sized encoder (random weights: serving cost does not depend on them). */
async function registerModels(home: string): Promise<void> {
  const { tf } = await loadBackend();
  const { store, registry } = openLocalState({ home });
  const tokenizer = await saveTokenizer(
    store,
    {
      format: 'pipewright-tokenizer',
      version: 1,
      type: 'wordpiece',
      vocab: bertBaseUncasedVocab(),
      lowercase: true,
      stripAccents: true,
      continuingPrefix: '##',
      maxCharsPerWord: 100,
      labels: LABELS,
    },
    {},
  );
  for (const seed of [1, 2]) {
    const model = new EncoderModel(
      tf,
      {
        vocabSize: 30522,
        maxLength: 32,
        layers: 2,
        hidden: 128,
        heads: 4,
        ffn: 256,
        dropout: 0.1,
        activation: 'gelu',
        positional: 'sinusoidal',
        pooling: 'first',
        classes: LABELS.length,
      },
      classification.head,
      seed,
    );
    const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
    const checkpoint = await saveCheckpoint(
      store,
      model,
      optimizer,
      { step: 0, epoch: 0, batchInEpoch: 0, seed },
      { task: 'classification', labels: LABELS },
    );
    model.dispose();
    optimizer.dispose();
    const version = await registry.register({
      name: 'intents',
      task: 'classification',
      checkpoint,
      tokenizer,
      labels: LABELS,
      metrics: { accuracy: 0, f1_macro: 0, loss: 0 },
      lineage: { pipeline: 'bench', workflowId: 'bench', runId: 'bench', step: `v${seed}`, parents: [] },
      deployKey: `bench/${seed}`,
    });
    if (seed === 1) await registry.promote('intents', version.version);
  }
}

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly versions: Set<number>;
}

/** `concurrency` clients, each sending one-text predict requests back to back for `seconds`. */
async function load(
  port: number,
  texts: readonly string[],
  concurrency: number,
  seconds: number,
  during?: () => Promise<void>,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs: number[] = [];
  const versions = new Set<number>();
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ instances: [texts[next++ % texts.length]] });
      const t0 = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/models/intents:predict',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latenciesMs.push(performance.now() - t0);
            if (res.statusCode !== 200) errors++;
            else versions.add((JSON.parse(Buffer.concat(chunks).toString()) as { version: number }).version);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const client = async () => {
    while (performance.now() < end) await one();
  };
  await Promise.all([...Array.from({ length: concurrency }, client), during?.()]);
  agent.destroy();
  return { requests: latenciesMs.length, errors, seconds: (performance.now() - started) / 1000, latenciesMs, versions };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function row(label: string, r: LoadResult): string {
  return [
    label.padEnd(34),
    (r.requests / r.seconds).toFixed(1).padStart(10),
    percentile(r.latenciesMs, 50).toFixed(2).padStart(9),
    percentile(r.latenciesMs, 99).toFixed(2).padStart(9),
    String(r.errors).padStart(7),
  ].join('  ');
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 32);
  const texts = readFileSync(join(PROJECT_ROOT, 'pipelines', 'data', 'snips-intents-sample.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { text: string }).text);
  const home = mkdtempSync(join(tmpdir(), 'pipewright-serve-bench-'));
  try {
    await registerModels(home);
    console.log(
      `model: 2-layer encoder, hidden 128, FFN 256, seq ≤ 32, vocabulary 30,522; ${seconds} s per row, one text per request`,
    );
    console.log(
      `${'scenario'.padEnd(34)}  ${'requests/s'.padStart(10)}  ${'p50 ms'.padStart(9)}  ${'p99 ms'.padStart(9)}  ${'errors'.padStart(7)}`,
    );
    for (const maxBatch of [32, 1]) {
      const port = await freePort();
      const server = await startServer(home, port, 'intents', ['--max-batch', String(maxBatch), '--max-wait-ms', '2']);
      try {
        await load(port, texts, 4, 1);
        const mode = maxBatch === 1 ? 'no batching' : `micro-batching (≤${maxBatch}, 2 ms)`;
        console.log(row(`${mode}, concurrency 1`, await load(port, texts, 1, seconds)));
        console.log(row(`${mode}, concurrency ${concurrency}`, await load(port, texts, concurrency, seconds)));
        if (maxBatch > 1) {
          const swap = await load(port, texts, concurrency, seconds, async () => {
            await new Promise((r) => setTimeout(r, (seconds * 1000) / 3));
            await openLocalState({ home }).registry.promote('intents', 2);
          });
          console.log(
            row(`hot swap v1 → v2, concurrency ${concurrency}`, swap) +
              `  versions answered: ${[...swap.versions].join(', ')}`,
          );
        }
      } finally {
        await stopServer(server);
      }
      await openLocalState({ home }).registry.promote('intents', 1);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
