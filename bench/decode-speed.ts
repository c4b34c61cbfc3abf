// Autoregressive decoding speed of a seq2seq model the size of the chatbot example (2+2 blocks,
// hidden 128, ffn 512, 8,000 tokens; seeded random weights: the cost does not depend on them):
// tokens/s generating 64 new tokens greedily at batch 1 and 8, with the key/value cache and by
// re-running the prefix at every step, against a PyTorch reference of the same model with the
// same weights (bench/reference/torch_seq2seq.py), which must produce the same tokens. Our side
// runs twice, with TensorFlow's oneDNN kernels on (its default) and off (TF_ENABLE_ONEDNN_OPTS=0):
// a process-wide switch that matters for small matrices. Each round runs every side in a fresh
// process, in alternating order, each case once untimed and then timed; prints medians.
// Usage: node dist/bench/decode-speed.js [--rounds 3] [--tokens 64] [--threads 2] (PyTorch's, and TensorFlow's per op)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { decodeAll } from '../ml/generation/decoding-run';
import { EncoderModel } from '../ml/models/encoder-model';
import { seq2seq } from '../ml/tasks/seq2seq';
import { PROJECT_ROOT } from '../worker/config';
import { chatbotSizedConfig, writeReferenceWeights } from './chatbot-sized-seq2seq';
import { referencePython } from './reference-venv';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const TOKENS = arg('tokens', 64);
const START = 1;
const CONFIG = chatbotSizedConfig(TOKENS + 16, 0.1);
const CASES = [1, 8].flatMap((batch) =>
  [true, false].map((cache) => ({ name: `batch ${batch} ${cache ? 'cached' : 'uncached'}`, batch, cache })),
);
const SOURCES = Array.from({ length: 8 }, (_, r) =>
  Array.from({ length: 32 }, (_, i) => 2 + ((r * 31 + i * 7) % 7990)),
);

/** What one side measured in one process: seconds and tokens per case. */
interface SideRun {
  readonly seconds: Record<string, number>;
  readonly tokens: Record<string, number[][]>;
}

/** Our side, in this process: the model seeded as in every process, optionally written out for the reference. */
async function child(weightsPath: string | undefined): Promise<void> {
  const { tf } = await loadBackend();
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 1);
  if (weightsPath) writeReferenceWeights(model, weightsPath);
  // The stop token is held back for all TOKENS steps, so every sequence gets exactly that many.
  const options = { padId: 0, startId: START, stopId: START, maxNewTokens: TOKENS, minNewTokens: TOKENS };
  const run: SideRun = { seconds: {}, tokens: {} };
  for (const c of CASES) {
    const sources = SOURCES.slice(0, c.batch);
    decodeAll(tf, model, sources, { ...options, useCache: c.cache });
    const started = performance.now();
    run.tokens[c.name] = decodeAll(tf, model, sources, { ...options, useCache: c.cache });
    run.seconds[c.name] = (performance.now() - started) / 1000;
  }
  process.stdout.write(JSON.stringify({ ...run, params: [...model.params].map(([name, v]) => [name, v.shape]) }));
}

type Side = 'pytorch' | 'tfjs-node, oneDNN on' | 'tfjs-node, oneDNN off';

function main(): void {
  const rounds = arg('rounds', 3);
  const threads = arg('threads', 2);
  const dir = mkdtempSync(join(tmpdir(), 'decode-speed-'));
  const weights = join(dir, 'weights.bin');
  const ours = (oneDnn: boolean, exportWeights = false) =>
    JSON.parse(
      execFileSync(process.execPath, [__filename, '--child', ...(exportWeights ? ['--export', weights] : [])], {
        encoding: 'utf8',
        env: {
          ...process.env,
          TF_ENABLE_ONEDNN_OPTS: oneDnn ? '1' : '0',
          TF_NUM_INTRAOP_THREADS: String(threads),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as SideRun & { params: [string, number[]][] };
  try {
    const { params } = ours(true, true);
    let torchVersion = '';
    const torch = (): SideRun => {
      const config = {
        ...CONFIG,
        params,
        weights,
        threads,
        tokens: TOKENS,
        startId: START,
        stopId: START,
        cases: CASES,
        sources: SOURCES,
      };
      const out = JSON.parse(
        execFileSync(
          referencePython(),
          [join(PROJECT_ROOT, 'bench', 'reference', 'torch_seq2seq.py'), JSON.stringify(config)],
          {
            encoding: 'utf8',
          },
        ),
      ) as SideRun & { torch: string };
      torchVersion = out.torch;
      return out;
    };
    const sides: Record<Side, () => SideRun> = {
      pytorch: torch,
      'tfjs-node, oneDNN on': () => ours(true),
      'tfjs-node, oneDNN off': () => ours(false),
    };
    const names = Object.keys(sides) as Side[];
    const seconds = new Map<string, number[]>();
    const tokens = new Map<Side, SideRun['tokens']>();
    for (let round = 0; round < rounds; round++)
      for (const side of round % 2 === 0 ? names : [...names].reverse()) {
        const run = sides[side]();
        tokens.set(side, run.tokens);
        for (const c of CASES)
          seconds.set(`${side}|${c.name}`, [...(seconds.get(`${side}|${c.name}`) ?? []), run.seconds[c.name]!]);
      }
    const same = names.every((side) => JSON.stringify(tokens.get(side)) === JSON.stringify(tokens.get('pytorch')));
    console.log(
      `${TOKENS} new tokens per sequence, greedy, source 32 tokens, ${rounds} rounds, medians; PyTorch ${torchVersion}; ${threads} threads per op on each side`,
    );
    console.log(`the same tokens from every side: ${same ? 'yes' : 'NO'}`);
    const rate = (side: Side, name: string) =>
      (CASES.find((c) => c.name === name)!.batch * TOKENS) / median(seconds.get(`${side}|${name}`)!);
    console.log('| side | batch | cached tokens/s | uncached tokens/s | cache speed-up | cached vs PyTorch |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const side of names)
      for (const batch of [1, 8]) {
        const cached = rate(side, `batch ${batch} cached`);
        const uncached = rate(side, `batch ${batch} uncached`);
        const vsTorch = cached / rate('pytorch', `batch ${batch} cached`);
        console.log(
          `| ${side} | ${batch} | ${cached.toFixed(1)} | ${uncached.toFixed(1)} | ${(cached / uncached).toFixed(2)}× | ${vsTorch.toFixed(2)}× |`,
        );
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--export');
  void (process.argv.includes('--child') ? child(at >= 0 ? process.argv[at + 1] : undefined) : main());
}
