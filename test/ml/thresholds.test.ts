import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkThresholds, ThresholdError } from '../../ml/thresholds';

test('thresholds compare measured metrics with every operator', () => {
  const measured = { accuracy: 0.95, f1_macro: 0.9, loss: 0.2 };
  const checks = checkThresholds(['f1_macro >= 0.9', 'accuracy > 0.95', 'loss < 0.25', ' loss <= .1 '], measured);
  assert.deepEqual(
    checks.map((c) => [c.condition, c.value, c.passed]),
    [
      ['f1_macro >= 0.9', 0.9, true],
      ['accuracy > 0.95', 0.95, false],
      ['loss < 0.25', 0.2, true],
      ['loss <= .1', 0.2, false],
    ],
  );
  assert.deepEqual(checkThresholds([], measured), []);
});

test('a malformed threshold or an unknown metric is a clear error', () => {
  assert.throws(() => checkThresholds(['f1 is high'], { f1_macro: 1 }), ThresholdError);
  assert.throws(
    () => checkThresholds(['recall >= 0.5'], { f1_macro: 1 }, 'the classification model'),
    /"recall >= 0.5": the classification model reports no metric recall; it reports f1_macro/,
  );
});
