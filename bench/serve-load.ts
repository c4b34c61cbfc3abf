// Load test of `pipewright serve` on loopback: requests/s and p50/p99 latency at concurrency 1 and
// 32, with micro-batching and without, and across a hot swap to a newly deployed version; then a
// classifier, an entity tagger and a question-answering model served side by side, each against
// the upper bound of the same architecture run in a loop without HTTP by PyTorch and by ONNX
// Runtime (bench/reference/torch_encoder.py, at the requests' mean length in tokens).
// The server runs as its own process (the real CLI); this process generates the load.
// Usage: node dist/bench/serve-load.js [--seconds 5] [--concurrency 32] [--wait-ms 2] [--intra-op-threads 0]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EncoderModel } from '../ml/models/encoder-model';
import type { EncoderConfig } from '../ml/models/encoder-config';
import { taskNamed } from '../ml/tasks/registry';
import { TASK_METRICS, type TrainTask } from '../core/metrics';
import { saveTokenizer, wordPieceFromFile, type TokenizerFile } from '../ml/tokenizers/tokenizer-file';
import type { WordPieceTokenizer } from '../ml/tokenizers/wordpiece';
import { bertBaseUncasedVocab } from '../ml/tokenizers/vocab-files';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { saveCheckpoint } from '../ml/train/checkpoint';
import { freePort } from '../worker/dev-server';
import { startServer, stopServer } from './serve-process';
import { PROJECT_ROOT } from '../worker/config';
import { openLocalState } from '../worker/local-state';
import { referencePython } from './reference-venv';

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

/** A served model of one task: what it is, how it is shaped, and the requests sent to it. */
interface ServedKind {
  readonly name: string;
  readonly task: TrainTask;
  readonly config: EncoderConfig;
  /** What the tokenizer file records beyond the vocabulary: labels, tags or QA windows. */
  readonly names: Pick<TokenizerFile, 'labels' | 'tags' | 'windows'>;
  readonly instances: readonly unknown[];
  /** Tokens of one request, [CLS] and [SEP] included. */
  readonly tokens: (instance: unknown, tokenizer: WordPieceTokenizer) => number;
}

/** A SNIPS-sized encoder (random weights: serving cost does not depend on them). */
const ENCODER: Omit<EncoderConfig, 'classes' | 'maxLength'> = {
  vocabSize: 30522,
  layers: 2,
  hidden: 128,
  heads: 4,
  ffn: 256,
  dropout: 0.1,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
};

const WORDPIECE: TokenizerFile = {
  format: 'pipewright-tokenizer',
  version: 1,
  type: 'wordpiece',
  vocab: bertBaseUncasedVocab(),
  lowercase: true,
  stripAccents: true,
  continuingPrefix: '##',
  maxCharsPerWord: 100,
};

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(join(PROJECT_ROOT, 'pipelines', 'data', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function servedKinds(): ServedKind[] {
  const textTokens = (instance: unknown, tokenizer: WordPieceTokenizer) =>
    tokenizer.encode(instance as string).ids.length + 2;
  const tags = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'];
  return [
    {
      name: 'intents',
      task: 'classification',
      config: { ...ENCODER, maxLength: 32, classes: LABELS.length },
      names: { labels: LABELS },
      instances: jsonLines('snips-intents-sample.jsonl').map((row) => row.text as string),
      tokens: textTokens,
    },
    {
      name: 'entities',
      task: 'token_classification',
      config: { ...ENCODER, maxLength: 64, classes: tags.length },
      names: { tags },
      instances: jsonLines('wikiann-en-sample.jsonl').map((row) => (row.tokens as string[]).join(' ')),
      tokens: (instance, tokenizer) => Math.min(64, textTokens(instance, tokenizer)),
    },
    {
      name: 'answers',
      task: 'question_answering',
      config: { ...ENCODER, maxLength: 128, classes: 2 },
      names: { windows: { maxLength: 128, stride: 32 } },
      instances: jsonLines('babi-en-sample.jsonl').map(({ question, context }) => ({ question, context })),
      tokens: (instance, tokenizer) => {
        const { question, context } = instance as { question: string; context: string };
        return Math.min(128, tokenizer.encode(question).ids.length + tokenizer.encode(context).ids.length + 3);
      },
    },
  ];
}

/** Registers each kind's model (the classifier twice, for the hot swap) and deploys its first version. */
async function registerModels(home: string, kinds: readonly ServedKind[]): Promise<void> {
  const { tf } = await loadBackend();
  const { store, registry } = openLocalState({ home });
  for (const kind of kinds) {
    const tokenizer = await saveTokenizer(store, { ...WORDPIECE, ...kind.names }, {});
    const labels = kind.names.labels ?? kind.names.tags ?? ['start', 'end'];
    for (const seed of kind.name === 'intents' ? [1, 2] : [1]) {
      const model = new EncoderModel(tf, kind.config, taskNamed(kind.task).head, seed);
      const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
      const checkpoint = await saveCheckpoint(
        store,
        model,
        optimizer,
        { step: 0, epoch: 0, batchInEpoch: 0, seed },
        { task: kind.task, labels },
      );
      model.dispose();
      optimizer.dispose();
      const version = await registry.register({
        name: kind.name,
        task: kind.task,
        checkpoint,
        tokenizer,
        labels,
        metrics: Object.fromEntries(TASK_METRICS[kind.task].map((metric) => [metric, 0])),
        lineage: { pipeline: 'bench', workflowId: 'bench', runId: 'bench', step: `${kind.name}-v${seed}`, parents: [] },
        deployKey: `bench/${kind.name}/${seed}`,
      });
      if (seed === 1) await registry.promote(kind.name, version.version);
    }
  }
}

/** Requests/s of the same architecture in a loop without HTTP: batch 1 and 32, PyTorch and ONNX Runtime. */
function referenceLoops(kind: ServedKind, tokens: number): { torch: [number, number]; ort: [number, number] } {
  const config = {
    ...kind.config,
    maxLength: tokens,
    // The span head is a two-class linear layer on every token: the token tagger's cost.
    task: kind.task === 'classification' ? 'classification' : 'token_classification',
    batch: 32,
    threads: cpus().length,
    steps: 1,
    warmup: 0,
  };
  const out = JSON.parse(
    execFileSync(
      referencePython(),
      [join(PROJECT_ROOT, 'bench', 'reference', 'torch_encoder.py'), JSON.stringify(config)],
      {
        encoding: 'utf8',
      },
    ),
  ) as { infer_b1_s: number[]; infer_batch_s: number[]; ort_infer_b1_s: number[]; ort_infer_batch_s: number[] };
  const perSecond = (b1: number[], b32: number[]): [number, number] => [1 / median(b1), 32 / median(b32)];
  return {
    torch: perSecond(out.infer_b1_s, out.infer_batch_s),
    ort: perSecond(out.ort_infer_b1_s, out.ort_infer_batch_s),
  };
}

function median(values: readonly number[]): number {
  return percentile([...values], 50);
}

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly versions: Set<number>;
}

/**
 * `concurrency` clients, each sending one-instance predict requests to `model` back to back for
 * `seconds`; `atThird` runs once a third of the way through, started by the client that passes the
 * mark (a timer can wait behind the stream of responses in this busy process).
 */
async function load(
  port: number,
  model: string,
  instances: readonly unknown[],
  concurrency: number,
  seconds: number,
  atThird?: () => Promise<void>,
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
      const body = JSON.stringify({ instances: [instances[next++ % instances.length]] });
      const t0 = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: `/v1/models/${model}:predict`,
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
  const third = started + (seconds * 1000) / 3;
  let marked: Promise<void> | undefined;
  const client = async () => {
    while (performance.now() < end) {
      await one();
      if (atThird && !marked && performance.now() >= third) marked = atThird();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  await marked;
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
  const waitMs = arg('wait-ms', 2);
  const threads = ['--intra-op-threads', String(arg('intra-op-threads', 0))];
  const kinds = servedKinds();
  const intents = kinds[0]!;
  const home = mkdtempSync(join(tmpdir(), 'pipewright-serve-bench-'));
  try {
    await registerModels(home, kinds);
    console.log(
      `models: 2-layer encoders, hidden 128, FFN 256, vocabulary 30,522; ${seconds} s per row, one instance per request; server ${threads.join(' ')}`,
    );
    const header = `${'scenario'.padEnd(34)}  ${'requests/s'.padStart(10)}  ${'p50 ms'.padStart(9)}  ${'p99 ms'.padStart(9)}  ${'errors'.padStart(7)}`;
    console.log(`\nthe classifier (seq ≤ 32)\n${header}`);
    for (const maxBatch of [32, 1]) {
      const port = await freePort();
      const server = await startServer(home, port, 'intents', [
        '--models',
        'intents',
        '--max-batch',
        String(maxBatch),
        '--max-wait-ms',
        String(waitMs),
        ...threads,
      ]);
      try {
        await load(port, 'intents', intents.instances, 4, 1);
        const mode = maxBatch === 1 ? 'no batching' : `micro-batching (≤${maxBatch}, ${waitMs} ms)`;
        console.log(row(`${mode}, concurrency 1`, await load(port, 'intents', intents.instances, 1, seconds)));
        console.log(
          row(
            `${mode}, concurrency ${concurrency}`,
            await load(port, 'intents', intents.instances, concurrency, seconds),
          ),
        );
        if (maxBatch > 1) {
          const swap = await load(port, 'intents', intents.instances, concurrency, seconds, async () => {
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

    console.log(
      `\nevery kind served side by side, micro-batching (≤32, ${waitMs} ms); loops without HTTP at batch 1 and 32 at the mean length`,
    );
    console.log(
      `${'model'.padEnd(30)}  ${'conc.'.padStart(5)}  ${'requests/s'.padStart(10)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}  ${'PyTorch loop'.padStart(12)}  ${'ratio'.padStart(6)}  ${'ORT loop'.padStart(9)}  ${'ratio'.padStart(6)}`,
    );
    const tokenizer = wordPieceFromFile(WORDPIECE, 'bench');
    const port = await freePort();
    const server = await startServer(home, port, 'answers', [
      '--max-batch',
      '32',
      '--max-wait-ms',
      String(waitMs),
      ...threads,
    ]);
    try {
      for (const kind of kinds) {
        const lengths = kind.instances.map((instance) => kind.tokens(instance, tokenizer));
        const tokens = Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length);
        const bounds = referenceLoops(kind, tokens);
        await load(port, kind.name, kind.instances, 4, 1);
        for (const [i, clients] of [1, concurrency].entries()) {
          const r = await load(port, kind.name, kind.instances, clients, seconds);
          const rps = r.requests / r.seconds;
          console.log(
            [
              `${kind.name} (${kind.task}, ${tokens} tokens)`.padEnd(30),
              String(clients).padStart(5),
              rps.toFixed(1).padStart(10),
              percentile(r.latenciesMs, 50).toFixed(2).padStart(7),
              percentile(r.latenciesMs, 99).toFixed(2).padStart(7),
              bounds.torch[i]!.toFixed(0).padStart(12),
              `${(rps / bounds.torch[i]!).toFixed(2)}x`.padStart(6),
              bounds.ort[i]!.toFixed(0).padStart(9),
              `${(rps / bounds.ort[i]!).toFixed(2)}x`.padStart(6),
              r.errors > 0 ? `  ${r.errors} errors` : '',
            ].join('  '),
          );
        }
      }
    } finally {
      await stopServer(server);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
