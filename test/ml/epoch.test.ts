import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { EncoderModel } from '../../ml/models/encoder-model';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { TrainingDataError } from '../../ml/train/dataset-batches';
import { trainEpoch } from '../../ml/train/epoch';
import { classification, type ClassificationBatch } from '../../ml/tasks/classification';
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

/** The toy rows; with `outOfScopeEvery`, every such row of a batch is out of scope (label_id -1) instead. */
function* toyBatches(count: number, outOfScopeEvery = 0): Generator<ClassificationBatch> {
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
        label_id: outOfScopeEvery > 0 && (b * 4 + r) % outOfScopeEvery === 0 ? -1 : label,
        text: `row ${b}.${r}`,
      };
    });
    yield classification.batch(rows, 2, outOfScopeEvery > 0);
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

  const evaluation = await classification.evaluate(tf, model, batches(50), {
    classNames: ['absent', 'present'],
    settings: {},
  });
  assert.equal(tf.memory().numTensors, tensors, 'evaluation frees its tensors');
  assert.equal(evaluation.rows, 200);
  assert.ok(evaluation.metrics.accuracy! > 0.9, `accuracy ${evaluation.metrics.accuracy}`);
  assert.equal(evaluation.perClass.length, 2);
  assertMistakes(evaluation);
  const untrained = new EncoderModel(tf, CONFIG, classification.head, 6);
  const guesses = await classification.evaluate(tf, untrained, batches(50), {
    classNames: ['absent', 'present'],
    settings: {},
  });
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

test('out-of-scope rows: predictions less sure than reject_below count as one class more, scored apart', async () => {
  const model = new EncoderModel(tf, CONFIG, classification.head, 6);
  const classNames = ['absent', 'present'];
  const rows = async function* (outOfScopeEvery: number, inScopeOnly = false) {
    for (const batch of toyBatches(25, outOfScopeEvery)) {
      if (!inScopeOnly) yield await Promise.resolve(batch);
      else {
        const keep = [...batch.labels.keys()].filter((r) => batch.labels[r] !== -1);
        const width = batch.length;
        yield {
          ...batch,
          size: keep.length,
          ids: Int32Array.from(keep.flatMap((r) => [...batch.ids.subarray(r * width, (r + 1) * width)])),
          mask: Int32Array.from(keep.flatMap((r) => [...batch.mask.subarray(r * width, (r + 1) * width)])),
          labels: Int32Array.from(keep.map((r) => batch.labels[r]!)),
          texts: keep.map((r) => batch.texts![r]),
        };
      }
    }
  };
  const scoring = (rejectBelow: number) => ({
    classNames,
    settings: {},
    outOfScope: { label: 'elsewhere', rejectBelow },
  });
  const inScope = await classification.evaluate(tf, model, rows(3, true), { classNames, settings: {} });
  // Two classes: the top probability is never below 0.5, so nothing is rejected.
  const none = await classification.evaluate(tf, model, rows(3), scoring(0.5));
  const outOfScopeRows = 100 - inScope.rows;
  assert.equal(none.rows, 100);
  const { curve, ...counts } = none.outOfScope!;
  assert.deepEqual(counts, { label: 'elsewhere', reject_below: 0.5, rows: outOfScopeRows, rejected: 0 });
  assert.deepEqual(
    curve.map((p) => p.reject_below),
    [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
  );
  curve.forEach((point, i) => {
    if (i > 0) assert.ok(point.rejected >= curve[i - 1]!.rejected, 'a higher threshold rejects no fewer rows');
  });
  const used = curve.find((p) => p.reject_below === 0.5)!;
  assert.deepEqual(
    [used.rejected, used.in_scope_accuracy, used.oos_recall, used.oos_precision],
    [0, none.metrics.in_scope_accuracy, none.metrics.oos_recall, none.metrics.oos_precision],
    "the curve's point at the used threshold is the reported scores",
  );
  const sure = await classification.evaluate(tf, model, rows(3), scoring(curve[4]!.reject_below));
  assert.equal(sure.outOfScope!.rejected, curve[4]!.rejected, 'the curve says what that threshold would reject');
  assert.equal(sure.metrics.oos_recall, curve[4]!.oos_recall);
  assert.ok(Math.abs(none.metrics.in_scope_accuracy! - inScope.metrics.accuracy!) < 1e-12);
  assert.ok(Math.abs(none.metrics.loss! - inScope.metrics.loss!) < 1e-6, 'loss is over in-scope rows only');
  assert.equal(none.metrics.oos_recall, 0);
  assert.equal(none.metrics.oos_precision, 0, 'no rejection: a share of nothing');
  assert.deepEqual(
    none.perClass.map((c) => [c.label, c.support]),
    [
      ['absent', inScope.perClass[0]!.support],
      ['present', inScope.perClass[1]!.support],
      ['elsewhere', outOfScopeRows],
    ],
  );
  assert.equal(none.confusion!.length, 3);
  assert.deepEqual(
    none.confusion!.map((row) => row[2]),
    [0, 0, 0],
    'nothing predicted out of scope',
  );
  assert.ok(
    none.mistakes!.some((m) => m.actual === 'elsewhere'),
    'accepted out-of-scope rows are mistakes',
  );
  // Every probability is below 1: everything is rejected.
  const all = await classification.evaluate(tf, model, rows(3), scoring(1));
  assert.equal(all.outOfScope!.rejected, 100);
  assert.equal(all.metrics.oos_recall, 1);
  assert.equal(all.metrics.in_scope_accuracy, 0);
  assert.equal(all.metrics.oos_precision, outOfScopeRows / 100);
  assert.equal(all.metrics.accuracy, outOfScopeRows / 100);
  assert.ok(all.mistakes!.every((m) => m.predicted === 'elsewhere' && m.probability < 1));
  model.dispose();
});

test('rows that are not padded classification rows are refused with a hint', () => {
  assert.throws(
    () => classification.batch([{ input_ids: [1], attention_mask: [1], label_id: -1 }], 2),
    (error: Error) =>
      error instanceof TrainingDataError && /out of scope .*validate's out_of_scope/.test(error.message),
    'an out-of-scope row is refused unless validate scores out-of-scope rows',
  );
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
