// Training throughput of a seq2seq model the size of the chatbot example (2+2 blocks, hidden 128,
// ffn 512, 8,000 tokens, tied output projection) at batch 32, 32 source and 32 target tokens:
// teacher forcing, cross-entropy over every target position, AdamW with clipping; against the
// PyTorch reference of the same model loaded with the same initial weights
// (bench/reference/torch_seq2seq.py). Dropout is 0 on both sides: the reference has none of our
// dropout sites. Every step is timed; rounds alternate the sides, each in a fresh process; medians.
// Usage: node dist/bench/seq2seq-train-throughput.js [--rounds 3] [--steps 10] [--threads <cores>]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EncoderModel } from '../ml/models/encoder-model';
import { encoderObjective, type EncoderBatch } from '../ml/tasks/encoder-objective';
import { seq2seq } from '../ml/tasks/seq2seq';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { trainStep } from '../ml/train/train-step';
import { PROJECT_ROOT } from '../worker/config';
import { chatbotSizedConfig, writeReferenceWeights } from './chatbot-sized-seq2seq';
import { referencePython } from './reference-venv';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const CONFIG = chatbotSizedConfig(64, 0);
const SHAPE = { batch: 32, sourceLength: 32, targetLength: 32, warmup: 3 };

/** Our side, in this process: seconds per step; with a path, the initial weights written there for the reference. */
async function child(steps: number, weightsPath: string | undefined): Promise<void> {
  const { tf } = await loadBackend();
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 1);
  const params = weightsPath ? writeReferenceWeights(model, weightsPath) : [];
  const { batch: size, sourceLength: length, targetLength } = SHAPE;
  const token = (i: number) => 2 + ((i * 7919) % (CONFIG.vocabSize - 2));
  const batch: EncoderBatch = {
    ids: Int32Array.from({ length: size * length }, (_, i) => token(i)),
    mask: new Int32Array(size * length).fill(1),
    decoderIds: Int32Array.from({ length: size * targetLength }, (_, i) => token(i + 13)),
    targetLength,
    labels: Int32Array.from({ length: size * targetLength }, (_, i) => token(i + 14)),
    size,
    length,
  };
  const optimizer = new AdamW(tf, model.params, { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
  const objective = encoderObjective(tf, model, { labelSmoothing: 0 });
  for (let s = 0; s < SHAPE.warmup; s++) trainStep(tf, objective, optimizer, batch, 1e-3, s);
  const seconds: number[] = [];
  for (let s = 0; s < steps; s++) {
    const started = performance.now();
    trainStep(tf, objective, optimizer, batch, 1e-3, SHAPE.warmup + s);
    seconds.push((performance.now() - started) / 1000);
  }
  process.stdout.write(JSON.stringify({ train_steps_s: seconds, params }));
}

function main(): void {
  const rounds = arg('rounds', 3);
  const steps = arg('steps', 10);
  const threads = arg('threads', cpus().length);
  const dir = mkdtempSync(join(tmpdir(), 'seq2seq-train-'));
  const weights = join(dir, 'weights.bin');
  const ours = (exportWeights = false) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [__filename, '--child', '--steps', String(steps), ...(exportWeights ? ['--export', weights] : [])],
        {
          encoding: 'utf8',
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', TF_NUM_INTRAOP_THREADS: String(threads) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    ) as { train_steps_s: number[]; params: [string, number[]][] };
  try {
    const first = ours(true);
    let torchVersion = '';
    const torch = (): number[] => {
      const config = { ...CONFIG, params: first.params, weights, threads, train: { ...SHAPE, steps } };
      const out = JSON.parse(
        execFileSync(
          referencePython(),
          [join(PROJECT_ROOT, 'bench', 'reference', 'torch_seq2seq.py'), JSON.stringify(config)],
          { encoding: 'utf8' },
        ),
      ) as { train_steps_s: number[]; torch: string };
      torchVersion = out.torch;
      return out.train_steps_s;
    };
    const seconds: Record<'pytorch' | 'tfjs-node', number[]> = { pytorch: [], 'tfjs-node': first.train_steps_s };
    for (let round = 0; round < rounds; round++) {
      seconds.pytorch.push(...torch());
      if (round > 0) seconds['tfjs-node'].push(...ours().train_steps_s);
    }
    const { batch, sourceLength, targetLength } = SHAPE;
    console.log(
      `seq2seq 2+2 blocks, hidden 128, ffn 512, vocabulary 8,000; batch ${batch}, ${sourceLength} source and ${targetLength} target tokens, dropout 0; ${rounds} rounds of ${steps} steps, medians; PyTorch ${torchVersion}; ${threads} threads per op on each side`,
    );
    console.log('| side | train samples/s | ms/step | vs PyTorch |');
    console.log('| --- | --- | --- | --- |');
    const reference = median(seconds.pytorch);
    for (const side of ['pytorch', 'tfjs-node'] as const) {
      const step = median(seconds[side]);
      console.log(
        `| ${side} | ${(batch / step).toFixed(1)} | ${(step * 1000).toFixed(1)} | ${(reference / step).toFixed(2)}× |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--export');
  if (process.argv.includes('--child')) void child(arg('steps', 10), at >= 0 ? process.argv[at + 1] : undefined);
  else main();
}
