// Fine-tuning throughput: the catalog's MiniLM with a sequence-classification head (or, with
// --task token_classification, a head on every token; with --task question_answering, a span head
// on question/context pairs with token types), trained on the native TensorFlow graph path, against
// PyTorch transformers' BertForSequenceClassification (BertForTokenClassification,
// BertForQuestionAnswering) on the same checkpoint, shapes, frozen set and threads; with nothing frozen and with the embeddings
// and blocks 0-3 frozen. Rounds alternate PyTorch and ours; the table reports medians and ratios.
// Also inference at batch 1 and at the full batch.
// Usage: node dist/bench/finetune-throughput.js [--seq 64] [--batch 32] [--steps 8] [--rounds 3]
//        [--task classification|token_classification|question_answering]
import type * as Tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadBackend } from '../ml/backend/load-backend';
import { EncoderModel } from '../ml/models/encoder-model';
import { openBertCheckpoint } from '../ml/pretrained/bert-checkpoint';
import { loadPretrainedWeights, pretrainedConfig } from '../ml/pretrained/pretrained-encoder';
import { taskNamed } from '../ml/tasks/registry';
import type { Task } from '../ml/tasks/task';
import { IGNORED_LABEL } from '../ml/tokenizers/task-encoding';
import type { TrainTask } from '../core/metrics';
import { encoderObjective, predictClasses, type EncoderBatch } from '../ml/tasks/encoder-objective';
import { AdamW, ADAMW_DEFAULTS } from '../ml/train/adamw';
import { frozenParameters } from '../ml/train/parameter-groups';
import { trainStep } from '../ml/train/train-step';
import { PROJECT_ROOT } from '../worker/config';
import { miniLmDir } from './bert-parity';
import { referencePython } from './reference-venv';

const CLASSES = 7;
/** Our freeze patterns and the transformers parameter-name prefixes they freeze. */
const FROZEN_SETS = [
  { label: 'nothing frozen', patterns: [] as string[], prefixes: [] as string[] },
  {
    label: 'embeddings + layers 0-3 frozen',
    patterns: ['embeddings', 'layers.0-3'],
    prefixes: ['bert.embeddings.', ...[0, 1, 2, 3].map((l) => `bert.encoder.layer.${l}.`)],
  },
];

interface Timing {
  readonly train_steps_s: number[];
  readonly infer_b1_s: number[];
  readonly infer_batch_s: number[];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function timeEach(reps: number, run: (i: number) => void): number[] {
  return Array.from({ length: reps }, (_, i) => {
    const started = process.hrtime.bigint();
    run(i);
    return Number(process.hrtime.bigint() - started) / 1e9;
  });
}

/**
 * Every row's label for the task: one per sequence; one per token with every fourth ignored as a
 * later sub-token; or a start and an end position per window.
 */
function labelsFor(task: Task, batch: number, seq: number): Int32Array {
  if (task.name === 'classification') return Int32Array.from({ length: batch }, (_, i) => i % CLASSES);
  if (task.name === 'question_answering')
    return Int32Array.from({ length: 2 * batch }, (_, i) => (i * 13 + (i % 2) * 3) % seq);
  return Int32Array.from({ length: batch * seq }, (_, i) => (i % 4 === 0 ? IGNORED_LABEL : i % CLASSES));
}

/** The head's classes: the span head scores a start and an end. */
const classesOf = (task: Task) => (task.name === 'question_answering' ? 2 : CLASSES);

function ours(
  tf: typeof Tf,
  dir: string,
  task: Task,
  patterns: string[],
  shape: { seq: number; batch: number; steps: number },
): Timing {
  const checkpoint = openBertCheckpoint(dir);
  const model = new EncoderModel(
    tf,
    pretrainedConfig(checkpoint, { classes: classesOf(task), pooling: 'first' }),
    task.head,
    1,
  );
  loadPretrainedWeights(tf, model, checkpoint);
  checkpoint.weights.close();
  const frozen = frozenParameters([...model.params.keys()], patterns);
  const objective = encoderObjective(tf, model, { labelSmoothing: 0 }, frozen);
  const optimizer = new AdamW(tf, objective.params, { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
  const { seq, batch, steps } = shape;
  const rows: EncoderBatch = {
    ids: Int32Array.from({ length: batch * seq }, (_, i) => 1000 + ((i * 7919) % 29000)),
    mask: new Int32Array(batch * seq).fill(1),
    labels: labelsFor(task, batch, seq),
    size: batch,
    length: seq,
    // A question in the first third of each window, its context after.
    ...(task.name === 'question_answering' && {
      types: Int32Array.from({ length: batch * seq }, (_, i) => (i % seq >= seq / 3 ? 1 : 0)),
    }),
  };
  try {
    // The first step builds and loads the training graph; it is not timed.
    trainStep(tf, objective, optimizer, rows, 1e-4, 0);
    const train = timeEach(steps, (i) => trainStep(tf, objective, optimizer, rows, 1e-4, i + 1));
    const one = {
      ...rows,
      ids: rows.ids.slice(0, seq),
      mask: rows.mask.slice(0, seq),
      ...(rows.types && { types: rows.types.slice(0, seq) }),
      size: 1,
    };
    for (let i = 0; i < 3; i++) predictClasses(tf, model, one);
    const inferB1 = timeEach(30, () => predictClasses(tf, model, one));
    predictClasses(tf, model, rows);
    const inferBatch = timeEach(10, () => predictClasses(tf, model, rows));
    return { train_steps_s: train, infer_b1_s: inferB1, infer_batch_s: inferBatch };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function main(): Promise<void> {
  const shape = { seq: arg('seq', 64), batch: arg('batch', 32), steps: arg('steps', 8) };
  const rounds = arg('rounds', 3);
  const taskAt = process.argv.indexOf('--task');
  const task = taskNamed(taskAt >= 0 ? (process.argv[taskAt + 1] as TrainTask) : 'classification');
  const dir = miniLmDir((l) => process.stderr.write(`${l}\n`));
  const { tf, backend } = await loadBackend();
  const python = referencePython();
  const results = FROZEN_SETS.map(() => ({ ours: [] as Timing[], torch: [] as Timing[] }));
  for (let round = 0; round < rounds; round++) {
    FROZEN_SETS.forEach((set, s) => {
      const reference = JSON.parse(
        execFileSync(
          python,
          [
            join(PROJECT_ROOT, 'bench', 'reference', 'hf_finetune.py'),
            JSON.stringify({
              checkpoint: dir,
              frozen_prefixes: set.prefixes,
              classes: CLASSES,
              task: task.name,
              threads: 2,
              warmup: 1,
              ...shape,
            }),
          ],
          { encoding: 'utf8' },
        ),
      ) as Timing;
      results[s]!.torch.push(reference);
      results[s]!.ours.push(ours(tf, dir, task, set.patterns, shape));
      process.stderr.write(`round ${round + 1}/${rounds}: ${set.label} done\n`);
    });
  }
  const all = (timings: Timing[], key: keyof Timing) => median(timings.flatMap((t) => t[key]));
  console.log(
    `MiniLM (all-minilm-l6-v2) ${task.name}, seq ${shape.seq}, batch ${shape.batch}, ${rounds} alternating rounds of ${shape.steps} steps; ours on ${backend} graphs, PyTorch transformers eager, 2 threads each`,
  );
  console.log(
    `| frozen | train samples/s ours | PyTorch | ratio | infer b1 ms ours | PyTorch | ratio | infer b${shape.batch} samples/s ours | PyTorch | ratio |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  FROZEN_SETS.forEach((set, s) => {
    const r = results[s]!;
    const train = [shape.batch / all(r.ours, 'train_steps_s'), shape.batch / all(r.torch, 'train_steps_s')] as const;
    const b1 = [1000 * all(r.ours, 'infer_b1_s'), 1000 * all(r.torch, 'infer_b1_s')] as const;
    const b32 = [shape.batch / all(r.ours, 'infer_batch_s'), shape.batch / all(r.torch, 'infer_batch_s')] as const;
    console.log(
      `| ${set.label} | ${train[0].toFixed(1)} | ${train[1].toFixed(1)} | ${(train[0] / train[1]).toFixed(2)}× | ${b1[0].toFixed(2)} | ${b1[1].toFixed(2)} | ${(b1[1] / b1[0]).toFixed(2)}× | ${b32[0].toFixed(1)} | ${b32[1].toFixed(1)} | ${(b32[0] / b32[1]).toFixed(2)}× |`,
    );
  });
  console.log('(ratios > 1 mean ours is faster: samples/s ours ÷ PyTorch, latency PyTorch ÷ ours)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
