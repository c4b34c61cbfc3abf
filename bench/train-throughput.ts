// Training and inference throughput of Pipewright's encoder (a sequence classifier, or a token
// classifier with --task token_classification) on each TensorFlow.js backend, against a PyTorch
// reference of the same architecture, optimizer, shapes and threads, run one after the other in
// this invocation, and for inference also against that model exported to ONNX on ONNX Runtime.
// Every step is timed; rounds alternate PyTorch and the backends so that a busy spell on the
// machine hits both, and the table reports medians. The CPU's peak is measured in the same run,
// as the best of a large TensorFlow MatMul.
// Usage: node dist/bench/train-throughput.js [--seq 64] [--batch 32] [--steps 20] [--rounds 3]
//        [--backends tensorflow,tensorflow-eager,wasm,cpu] [--task classification|token_classification]
//        [--threads <cores>] (PyTorch's and ONNX Runtime's threads, and TensorFlow's per op)
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { GraphBuilder } from '../ml/graph/graph-def';
import { loadGraph, runGraph } from '../ml/graph/graph-runner';
import { EncoderModel } from '../ml/models/encoder-model';
import type { EncoderConfig } from '../ml/models/encoder-config';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { encoderObjective, predictClasses, type EncoderBatch } from '../ml/tasks/encoder-objective';
import { taskNamed } from '../ml/tasks/registry';
import { IGNORED_LABEL } from '../ml/tokenizers/task-encoding';
import { TRAIN_TASKS, type TrainTask } from '../core/metrics';
import { trainStep } from '../ml/train/train-step';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';

/** How long one backend may take for its (few) steps; the plain JavaScript backend needs minutes per step. */
const SLOW_BACKEND_LIMIT_MS = 600_000;

/** Seconds per training step, per batch-1 inference call and per full-batch inference call. */
interface Timing {
  readonly trainStepS: number[];
  readonly inferB1S: number[];
  readonly inferBatchS: number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times `run` `reps` times, one entry per call, in seconds. */
function timeEach(reps: number, run: (i: number) => void): number[] {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const started = process.hrtime.bigint();
    run(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return times;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Multiply-adds of one forward pass per sequence, times 2 FLOPs; training counts three passes' worth. */
export function trainingFlops(config: EncoderConfig, batch: number, task: TrainTask): number {
  const { hidden: d, ffn, maxLength: t, layers, classes } = config;
  const perLayer = t * (4 * d * d + 2 * d * ffn) + 2 * t * t * d;
  const head = (task === 'classification' ? 1 : t) * d * classes;
  const forward = 2 * batch * (layers * perLayer + head);
  return 3 * forward;
}

/** The benchmark model: 2 layers, hidden 128, 4 heads, ffn 512, vocabulary 8,000, 7 classes, sequences of `seq`. */
export function benchConfig(seq: number): EncoderConfig {
  return {
    vocabSize: 8000,
    maxLength: seq,
    layers: 2,
    hidden: 128,
    heads: 4,
    ffn: 512,
    dropout: 0.1,
    activation: 'gelu',
    positional: 'sinusoidal',
    pooling: 'first',
    classes: 7,
  };
}

/** A full batch of the benchmark's training data: fixed token ids, no padding, labels for `task`. */
export function benchBatch(task: TrainTask, config: EncoderConfig, batchSize: number): EncoderBatch {
  const n = batchSize * config.maxLength;
  return {
    ids: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % (config.vocabSize - 1))),
    mask: new Int32Array(n).fill(1),
    // One label per sequence, or per token with every fourth ignored (as sub-tokens after a word's first are).
    labels:
      task === 'classification'
        ? Int32Array.from({ length: batchSize }, (_, i) => i % config.classes)
        : Int32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? IGNORED_LABEL : i % config.classes)),
    size: batchSize,
    length: config.maxLength,
  };
}

/** The first `size` sequences of a batch, for inference. */
export function firstRows(batch: EncoderBatch, size: number): Omit<EncoderBatch, 'labels'> {
  const n = size * batch.length;
  return { ids: batch.ids.subarray(0, n), mask: batch.mask.subarray(0, n), size, length: batch.length };
}

async function child(
  task: TrainTask,
  backend: string,
  config: EncoderConfig,
  batchSize: number,
  steps: number,
  warmup: number,
): Promise<void> {
  // "tensorflow-eager" is the native backend with graphs off: every op launched on its own.
  const { tf } = await loadBackend(backend === 'tensorflow-eager' ? 'tensorflow' : backend);
  const model = new EncoderModel(tf, config, taskNamed(task).head, 0);
  const optimizer = new AdamW(tf, model.params, { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
  const batch = benchBatch(task, config, batchSize);
  const objective = encoderObjective(tf, model, { labelSmoothing: 0 });
  for (let s = 0; s < warmup; s++) trainStep(tf, objective, optimizer, batch, 1e-3, s);
  const trainStepS = timeEach(steps, (s) => trainStep(tf, objective, optimizer, batch, 1e-3, warmup + s));
  const infer = (size: number, reps: number) => {
    const part = firstRows(batch, size);
    for (let r = 0; r < 3; r++) predictClasses(tf, model, part);
    return timeEach(reps, () => predictClasses(tf, model, part));
  };
  const timing: Timing = {
    trainStepS,
    inferB1S: infer(1, Math.max(5, steps)),
    inferBatchS: infer(batchSize, Math.max(3, steps / 2)),
  };
  process.stdout.write(JSON.stringify(timing) + '\n');
}

function main(): void {
  const taskArg = process.argv.indexOf('--task');
  const task = (taskArg >= 0 ? process.argv[taskArg + 1] : 'classification') as TrainTask;
  if (!TRAIN_TASKS.includes(task)) throw new Error(`--task must be one of ${TRAIN_TASKS.join(', ')}`);
  const seq = arg('seq', 64);
  const batch = arg('batch', 32);
  const steps = arg('steps', 20);
  const config = benchConfig(seq);
  if (process.argv.includes('--peak')) {
    void peakChild();
    return;
  }
  const childArg = process.argv.indexOf('--child');
  if (childArg >= 0) {
    const backend = process.argv[childArg + 1]!;
    const slow = backend === 'cpu' || backend === 'wasm';
    void child(task, backend, config, batch, slow ? 1 : steps, slow ? 1 : 3);
    return;
  }
  const threads = arg('threads', cpus().length);
  const tfThreads = { TF_NUM_INTRAOP_THREADS: String(threads) };
  console.log(
    `encoder, ${task} head: 2 layers, hidden 128, 4 heads, ffn 512, vocab 8000, 7 classes; batch ${batch}, seq ${seq}; ${threads} threads`,
  );
  const flops = trainingFlops(config, batch, task);
  const backendsArg = process.argv.indexOf('--backends');
  const backends =
    backendsArg >= 0 ? process.argv[backendsArg + 1]!.split(',') : ['tensorflow', 'tensorflow-eager', 'wasm', 'cpu'];
  const rounds = arg('rounds', 3);
  let torchVersion = '';
  let ortVersion = '';
  const peaks: number[] = [];
  const measured = new Map<string, Timing | string>();
  const record = (name: string, t: Timing) => {
    const seen = measured.get(name);
    measured.set(
      name,
      typeof seen === 'object'
        ? {
            trainStepS: [...seen.trainStepS, ...t.trainStepS],
            inferB1S: [...seen.inferB1S, ...t.inferB1S],
            inferBatchS: [...seen.inferBatchS, ...t.inferBatchS],
          }
        : t,
    );
  };
  for (let round = 0; round < rounds; round++) {
    const torch = JSON.parse(
      execFileSync(
        referencePython(),
        [
          join(PROJECT_ROOT, 'bench', 'reference', 'torch_encoder.py'),
          JSON.stringify({ ...config, task, batch, threads, steps, warmup: 3 }),
        ],
        { encoding: 'utf8' },
      ),
    ) as TorchTimes;
    torchVersion = torch.torch;
    ortVersion = torch.onnxruntime;
    record('pytorch', {
      trainStepS: torch.train_steps_s,
      inferB1S: torch.infer_b1_s,
      inferBatchS: torch.infer_batch_s,
    });
    record('onnxruntime', { trainStepS: [], inferB1S: torch.ort_infer_b1_s, inferBatchS: torch.ort_infer_batch_s });
    peaks.push(matMulPeak(tfThreads));
    for (const backend of backends) {
      if (typeof measured.get(backend) === 'string') continue;
      const slow = backend === 'cpu' || backend === 'wasm';
      if (slow && round > 0) continue;
      try {
        const out = execFileSync(
          process.execPath,
          [
            __filename,
            '--child',
            backend,
            '--task',
            task,
            '--seq',
            String(seq),
            '--batch',
            String(batch),
            '--steps',
            String(steps),
          ],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
              ...process.env,
              TF_CPP_MIN_LOG_LEVEL: '3',
              ...tfThreads,
              ...(backend === 'tensorflow-eager' && { PIPEWRIGHT_TF_GRAPHS: 'off' }),
            },
            timeout: SLOW_BACKEND_LIMIT_MS,
          },
        );
        record(backend, JSON.parse(out.trim().split('\n').pop()!) as Timing);
      } catch (error) {
        const e = error as { signal?: string; stderr?: string };
        const reason =
          e.signal === 'SIGTERM'
            ? `gave up after ${SLOW_BACKEND_LIMIT_MS / 1000} s`
            : (e.stderr ?? String(error))
                .split('\n')
                .find((l) => /Error/.test(l))
                ?.trim();
        measured.set(backend, `failed: ${reason ?? 'unknown error'}`);
      }
    }
  }
  const peak = Math.max(...peaks);
  console.log(
    `training FLOPs per step (estimate): ${(flops / 1e9).toFixed(2)} GFLOP; CPU peak: ${peak.toFixed(0)} GFLOP/s (best ${MATMUL_SIZE}×${MATMUL_SIZE} TensorFlow MatMul of ${peaks.length} rounds)`,
  );
  console.log(`medians over ${rounds} rounds of ${steps} steps, PyTorch and the backends alternating`);
  console.log(
    'backend               train samples/s  vs PyTorch  ms/step  GFLOP/s  %peak  infer b1 ms  vs PyTorch  vs ORT  infer b32 samples/s  vs PyTorch  vs ORT',
  );
  const reference = (key: string) => measured.get(key) as Timing;
  const torchStep = median(reference('pytorch').trainStepS);
  // Above 1: faster than the reference (its time over ours).
  const ratio = (theirs: readonly number[], ours: readonly number[], width: number) =>
    `${(median(theirs) / median(ours)).toFixed(2)}x`.padStart(width);
  for (const [key, t] of measured) {
    const name =
      key === 'pytorch'
        ? `pytorch ${torchVersion}`
        : key === 'onnxruntime'
          ? `onnxruntime ${ortVersion}`
          : `tfjs ${key}`;
    if (typeof t === 'string') {
      console.log(`${name.padEnd(21)} ${t}`);
      continue;
    }
    const trained = t.trainStepS.length > 0;
    const step = median(t.trainStepS);
    const gflops = flops / step / 1e9;
    const cells = [
      (trained ? (batch / step).toFixed(1) : '—').padStart(16),
      (trained ? `${(torchStep / step).toFixed(2)}x` : '—').padStart(10),
      (trained ? (step * 1000).toFixed(1) : '—').padStart(7),
      (trained ? gflops.toFixed(1) : '—').padStart(7),
      (trained ? `${((100 * gflops) / peak).toFixed(1)}%` : '—').padStart(6),
      (median(t.inferB1S) * 1000).toFixed(2).padStart(11),
      ratio(reference('pytorch').inferB1S, t.inferB1S, 10),
      ratio(reference('onnxruntime').inferB1S, t.inferB1S, 6),
      (batch / median(t.inferBatchS)).toFixed(0).padStart(19),
      ratio(reference('pytorch').inferBatchS, t.inferBatchS, 10),
      ratio(reference('onnxruntime').inferBatchS, t.inferBatchS, 6),
    ];
    console.log(`${name.padEnd(21)} ${cells.join('  ')}`);
  }
}

/** What the PyTorch reference prints: its times, and those of the same model on ONNX Runtime. */
interface TorchTimes {
  readonly train_steps_s: number[];
  readonly infer_b1_s: number[];
  readonly infer_batch_s: number[];
  readonly torch: string;
  readonly ort_infer_b1_s: number[];
  readonly ort_infer_batch_s: number[];
  readonly onnxruntime: string;
}

/** The side of the square MatMul that measures the CPU's peak: large enough that arithmetic, not memory, bounds it. */
const MATMUL_SIZE = 2048;

/** GFLOP/s of the best of several MatMuls on the native backend (a TensorFlow session), in a process of its own. */
function matMulPeak(threads: Record<string, string>): number {
  const out = execFileSync(process.execPath, [__filename, '--peak'], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ...threads },
  });
  return Number(out.trim().split('\n').pop());
}

/** The MatMul runs as a one-node TensorFlow graph, as training and inference do here. */
async function peakChild(): Promise<void> {
  const { tf } = await loadBackend('tensorflow');
  const n = MATMUL_SIZE;
  const graph = new GraphBuilder();
  const [a, b] = ['a', 'b'].map((name) => graph.placeholder(name, 'float', [n, n]));
  graph.op(
    'MatMul',
    [a!, b!],
    { transpose_a: { b: false }, transpose_b: { b: false } },
    [{ dtype: 'float', shape: [n, n] }],
    'product',
  );
  const session = loadGraph(tf, graph.toSavedModel());
  const inputs = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  const once = () => {
    const [product] = runGraph(tf, session, inputs, ['a', 'b'], ['product']);
    product!.dataSync();
    product!.dispose();
  };
  for (let i = 0; i < 2; i++) once();
  const best = Math.min(...timeEach(8, once));
  process.stdout.write(`${(2 * n ** 3) / best / 1e9}\n`);
}

if (require.main === module) main();
