import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { EncoderModel } from '../../ml/models/encoder-model';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { TrainingDataError } from '../../ml/train/dataset-batches';
import { trainEpoch } from '../../ml/train/epoch';
import { classification } from '../../ml/tasks/classification';
import type { TaskEvaluation } from '../../ml/tasks/task';
import { encoderObjective, type EncoderBatch } from '../../ml/tasks/encoder-objective';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
});

const CONFIG: EncoderConfig = {
  vocabSize: 30,
  maxLength: 6,
  layers: 1,
  hidden: 8,
  heads: 2,
  ffn: 16,
  dropout: 0.1,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'mean',
  classes: 2,
};

/** Class 1 when token 7 occurs, else 0. */
async function* batches(count: number): AsyncGenerator<EncoderBatch> {
  for (const batch of toyBatches(count)) yield await Promise.resolve(batch);
}

function* toyBatches(count: number): Generator<EncoderBatch> {
  for (let b = 0; b < count; b++) {
    const rows = Array.from({ length: 4 }, (_, r) => {
      const label = (b + r) % 2;
      const length = 3 + ((b * 3 + r) % 4);
      const ids = Array.from({ length: 6 }, (_, i) =>
        i >= length ? 0 : i === 1 && label ? 7 : 8 + ((b + r + i) % 20),
      );
      return {
        input_ids: ids,
        attention_mask: ids.map((_, i) => (i < length ? 1 : 0)),
        label_id: label,
        text: `row ${b}.${r}`,
      };
    });
    yield classification.batch(rows, 2);
  }
}

test('an epoch of thousands of steps keeps the tensor count flat, checkpoints on its interval, and learns', async () => {
  const model = new EncoderModel(tf, CONFIG, classification.head, 5);
  const optimizer = new AdamW(tf, model.params, { ...ADAMW_DEFAULTS, weightDecay: 0.01 });
  const tensors = tf.memory().numTensors;
  const saved: { step: number; reason: string }[] = [];
  const losses: number[] = [];
  const outcome = await trainEpoch(
    tf,
    encoderObjective(tf, model, { labelSmoothing: 0.1 }),
    optimizer,
    batches(2000),
    { step: 0, epoch: 0, batchInEpoch: 0, seed: 3 },
    {
      schedule: { kind: 'linear', peak: 3e-3, warmupSteps: 50, totalSteps: 2000 },
      checkpointEvery: 500,
      batches: 2000,
    },
    {
      onStep: (report) => losses.push(report.loss),
      checkpoint: (position, reason) => {
        saved.push({ step: position.step, reason });
        return Promise.resolve();
      },
    },
  );
  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks across 2,000 steps');
  assert.deepEqual(saved, [
    { step: 500, reason: 'interval' },
    { step: 1000, reason: 'interval' },
    { step: 1500, reason: 'interval' },
    { step: 2000, reason: 'end' },
  ]);
  assert.equal(outcome.position.batchInEpoch, 2000);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-100)) < mean(losses.slice(0, 100)) / 2, 'the loss fell');

  const evaluation = await classification.evaluate(tf, model, batches(50), ['absent', 'present'], {});
  assert.equal(tf.memory().numTensors, tensors, 'evaluation frees its tensors');
  assert.equal(evaluation.rows, 200);
  assert.ok(evaluation.metrics.accuracy! > 0.9, `accuracy ${evaluation.metrics.accuracy}`);
  assert.equal(evaluation.perClass.length, 2);
  assertMistakes(evaluation);
  const untrained = new EncoderModel(tf, CONFIG, classification.head, 6);
  const guesses = await classification.evaluate(tf, untrained, batches(50), ['absent', 'present'], {});
  assert.ok(guesses.metrics.accuracy! < 0.85, `an untrained model errs often: ${guesses.metrics.accuracy}`);
  assertMistakes(guesses);
  untrained.dispose();
  model.dispose();
  optimizer.dispose();
});

/** The evaluation keeps its (up to) 20 most confident mistakes, most confident first, each with its text. */
function assertMistakes(evaluation: TaskEvaluation): void {
  const wrong = Math.round(evaluation.rows * (1 - evaluation.metrics.accuracy!));
  const mistakes = evaluation.mistakes!;
  assert.equal(mistakes.length, Math.min(20, wrong), `${wrong} wrong rows`);
  for (const [i, mistake] of mistakes.entries()) {
    assert.match(mistake.text, /^row \d+\.\d$/, 'each mistake carries its row text');
    assert.notEqual(mistake.actual, mistake.predicted);
    assert.ok(
      mistake.probability >= 0.5 && mistake.probability <= 1,
      `a 2-class argmax has p ≥ 0.5: ${mistake.probability}`,
    );
    if (i > 0) assert.ok(mistake.probability <= mistakes[i - 1]!.probability, 'the most confident mistakes first');
  }
}

test('an aborted epoch stops after the current step, checkpoints, and rethrows', async () => {
  const model = new EncoderModel(tf, CONFIG, classification.head, 5);
  const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
  const controller = new AbortController();
  const saved: string[] = [];
  await assert.rejects(
    trainEpoch(
      tf,
      encoderObjective(tf, model, { labelSmoothing: 0 }),
      optimizer,
      batches(100),
      { step: 0, epoch: 0, batchInEpoch: 0, seed: 3 },
      {
        schedule: { kind: 'constant', peak: 1e-3, warmupSteps: 0, totalSteps: 100 },
        checkpointEvery: 0,
        batches: 100,
      },
      {
        signal: controller.signal,
        onStep: (report) => report.batch === 7 && controller.abort(new Error('stop here')),
        checkpoint: (position, reason) => {
          saved.push(`${reason}@${position.batchInEpoch}`);
          return Promise.resolve();
        },
      },
    ),
    /stop here/,
  );
  assert.deepEqual(saved, ['abort@7']);
  assert.equal(optimizer.step, 7);
  model.dispose();
  optimizer.dispose();
});

test('rows that are not padded classification rows are refused with a hint', () => {
  assert.throws(() => classification.batch([{ text: 'x' }], 2), /run tokenize and pad first/);
  assert.throws(
    () => classification.batch([{ input_ids: [1], attention_mask: [1], label_id: 5 }], 2),
    (error: Error) => error instanceof TrainingDataError && /label_id 5 is not a class id in 0..1/.test(error.message),
  );
  const mixed = classification.batch(
    [
      { input_ids: [1, 2], attention_mask: [1, 1], label_id: 0 },
      { input_ids: [3, 4, 5, 6], attention_mask: [1, 1, 1, 0], label_id: 1 },
    ],
    2,
  );
  assert.equal(mixed.length, 4, 'rows of different widths are padded to the widest');
  assert.deepEqual([...mixed.mask], [1, 1, 0, 0, 1, 1, 1, 0]);
});
