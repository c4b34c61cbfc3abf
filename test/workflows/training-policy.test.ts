import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArtifactRef } from '../../core/artifacts';
import { bestEpoch, retainedCheckpoints, shouldStopEarly, type EpochRecord } from '../../workflows/training-policy';

const ref = (name: string): ArtifactRef => ({ kind: 'checkpoint', uri: `file:///${name}`, sha256: name, bytes: 1 });

function epochs(f1: number[], loss: number[] = f1.map((x) => 1 - x)): EpochRecord[] {
  return f1.map((value, i) => ({
    epoch: i + 1,
    checkpoint: ref(`c${i + 1}`),
    step: (i + 1) * 10,
    trainLoss: 0,
    samplesPerSecond: 0,
    seconds: 0,
    validation: { accuracy: value, f1_macro: value, loss: loss[i]! },
    report: ref(`r${i + 1}`),
  }));
}

test('the best epoch is the highest F1 or the lowest loss; the earliest wins a tie', () => {
  assert.equal(bestEpoch(epochs([0.5, 0.9, 0.9, 0.7]), 'f1_macro')!.epoch, 2);
  assert.equal(bestEpoch(epochs([0.5, 0.9], [0.3, 0.2]), 'loss')!.epoch, 2);
  assert.equal(bestEpoch(epochs([0.5, 0.9], [0.1, 0.2]), 'loss')!.epoch, 1);
  assert.equal(bestEpoch([], 'loss'), undefined);
});

test('early stopping waits `patience` epochs without an improvement larger than min_delta', () => {
  assert.equal(shouldStopEarly(epochs([0.5, 0.6, 0.7]), 'f1_macro', 1, 0), false);
  assert.equal(shouldStopEarly(epochs([0.5, 0.6, 0.6]), 'f1_macro', 1, 0), true);
  assert.equal(shouldStopEarly(epochs([0.5, 0.6, 0.6]), 'f1_macro', 2, 0), false);
  assert.equal(shouldStopEarly(epochs([0.5, 0.6, 0.6, 0.55]), 'f1_macro', 2, 0), true);
  // Improvements of 0.01 do not count when min_delta is 0.05.
  assert.equal(shouldStopEarly(epochs([0.5, 0.51, 0.52]), 'f1_macro', 2, 0.05), true);
  // For loss, lower is better.
  assert.equal(shouldStopEarly(epochs([0, 0, 0], [0.5, 0.4, 0.3]), 'loss', 1, 0), false);
  assert.equal(shouldStopEarly(epochs([0, 0, 0], [0.3, 0.4, 0.5]), 'loss', 2, 0), true);
});

test('retention keeps the newest keep_last and the best keep_best epoch checkpoints', () => {
  const history = epochs([0.9, 0.5, 0.6, 0.7, 0.8]);
  assert.deepEqual([...retainedCheckpoints(history, 'f1_macro', 2, 1)].sort(), ['c1', 'c4', 'c5']);
  assert.deepEqual([...retainedCheckpoints(history, 'f1_macro', 1, 2)].sort(), ['c1', 'c5']);
  assert.deepEqual([...retainedCheckpoints(history, 'loss', 1, 1)].sort(), ['c1', 'c5']);
});
