// Runs the data steps on a generated dataset of N rows and reports time and memory per step.
// Usage: node dist/bench/data-scale.js [--rows 100000,1000000]
// Each size runs in its own process so the figures are comparable: bounded memory means they stay
// flat as the row count grows.
import { MockActivityEnvironment } from '@temporalio/testing';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActivities, type StepInput, type StepResult } from '../activities';
import { seededRandom } from '../data/seeded-random';
import type { ArtifactRef } from '../core/artifacts';
import { loadConfig } from '../worker/config';
import { activityDeps } from '../worker/create-workers';
import { sharedDataDir } from './shared-texts';

interface StepReport {
  step: string;
  seconds: number;
  rowsPerSecond: number;
  /** Largest JS heap and off-heap buffer use sampled during the step, and the process's peak RSS so far. */
  peakHeapMb: number;
  peakBuffersMb: number;
  peakRssMb: number;
}

/** Samples memory every 50 ms while `work` runs. */
async function sampled<T>(work: () => Promise<T>): Promise<{ value: T; heapMb: number; buffersMb: number }> {
  let heap = 0;
  let buffers = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    buffers = Math.max(buffers, m.arrayBuffers);
  };
  const timer = setInterval(sample, 50);
  try {
    const value = await work();
    sample();
    return { value, heapMb: Math.round(heap / 2 ** 20), buffersMb: Math.round(buffers / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

async function generate(path: string, rows: number): Promise<void> {
  const source = readFileSync(join(sharedDataDir(), 'snips', 'intents', 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { text: string; intent: string });
  const random = seededRandom(1);
  const out = createWriteStream(path);
  for (let i = 0; i < rows; i++) {
    const a = source[Math.floor(random() * source.length)]!;
    const b = source[Math.floor(random() * source.length)]!;
    const words = b.text.split(' ');
    const text = `${a.text} ${words.slice(0, 1 + Math.floor(random() * words.length)).join(' ')}`;
    if (!out.write(JSON.stringify({ text, intent: a.intent }) + '\n'))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

async function child(rows: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-scale-'));
  try {
    const source = join(dir, 'rows.jsonl');
    await generate(source, rows);
    const activities = createActivities(activityDeps({ ...loadConfig({}), home: join(dir, 'home') }));
    const env = new MockActivityEnvironment();
    const reports: StepReport[] = [];
    const call = async (
      step: string,
      fn: (i: StepInput) => Promise<StepResult>,
      withValues: Record<string, unknown>,
      inputs: Record<string, ArtifactRef> = {},
    ) => {
      const input: StepInput = {
        run: { workflowId: 'bench', runId: 'bench', pipeline: 'bench', dir },
        stepId: step,
        with: withValues,
        inputs,
        cache: false,
      };
      const started = process.hrtime.bigint();
      const { value, heapMb, buffersMb } = await sampled((): Promise<StepResult> => env.run(fn, input));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const report: StepReport = {
        step,
        seconds,
        rowsPerSecond: Math.round(rows / seconds),
        peakHeapMb: heapMb,
        peakBuffersMb: buffersMb,
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      process.stderr.write(`${JSON.stringify(report)}\n`);
      reports.push(report);
      return value;
    };
    const out = (r: StepResult, name = 'dataset') => r.outputs[name] as ArtifactRef;
    const loaded = await call('load', activities.load, {
      path: 'rows.jsonl',
      columns: { text: 'text', label: 'intent' },
    });
    const cleaned = await call('clean', activities.clean, { lowercase: true }, { dataset: out(loaded) });
    const parts = await call('split', activities.split, { stratify_by: 'label' }, { dataset: out(cleaned) });
    const tokenized = await call(
      'tokenize',
      activities.tokenize,
      { vocab_size: 8000 },
      { dataset: out(parts, 'train') },
    );
    const padded = await call(
      'pad',
      activities.pad,
      { max_length: 64 },
      { dataset: out(tokenized), tokenizer: out(tokenized, 'tokenizer') },
    );
    await call('batch', activities.batch, { batch_size: 32 }, { dataset: out(padded) });
    process.stdout.write(
      JSON.stringify({ rows, kept: cleaned.outputs.rows, train: parts.outputs.train_rows, reports }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const childArg = process.argv.indexOf('--child');
  if (childArg >= 0) {
    void child(Number(process.argv[childArg + 1]));
    return;
  }
  const rowsArg = process.argv.indexOf('--rows');
  const sizes = (rowsArg >= 0 ? process.argv[rowsArg + 1]! : '100000,1000000').split(',').map(Number);
  for (const rows of sizes) {
    const output = execFileSync(process.execPath, [__filename, '--child', String(rows)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const result = JSON.parse(output) as { rows: number; kept: number; train: number; reports: StepReport[] };
    console.log(
      `\n${rows.toLocaleString('en')} rows generated; ${result.kept.toLocaleString('en')} kept by clean, ${result.train.toLocaleString('en')} in train`,
    );
    console.log('step      seconds    rows/s   peak heap MB   peak buffers MB   process peak RSS MB');
    for (const r of result.reports) {
      const cells = [
        r.seconds.toFixed(1).padStart(7),
        String(r.rowsPerSecond).padStart(8),
        String(r.peakHeapMb).padStart(13),
        String(r.peakBuffersMb).padStart(16),
        String(r.peakRssMb).padStart(20),
      ];
      console.log(`${r.step.padEnd(9)} ${cells.join('  ')}`);
    }
  }
}

main();
