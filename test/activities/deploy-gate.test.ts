import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate } from '../../activities/deploy';
import type { ModelVersion } from '../../store/model-registry';

const report = (f1: number, passed = true) => ({
  metrics: { accuracy: f1, f1_macro: f1, loss: 1 - f1 },
  passed,
  thresholds: passed ? [] : [{ condition: 'f1_macro >= 0.99', metric: 'f1_macro', value: f1, passed: false }],
});
const champion = (f1: number) =>
  ({ version: 4, metrics: { accuracy: f1, f1_macro: f1, loss: 1 - f1 } }) as unknown as ModelVersion;
const options = { metric: 'f1_macro' as const, margin: 0, force: false };

test('the first model that passed its thresholds is deployed', () => {
  assert.deepEqual(gate(report(0.9), undefined, options), { deploy: true, reason: 'first version: f1_macro 0.9000' });
});

test('a challenger must pass its thresholds and beat the champion by more than the margin', () => {
  assert.equal(gate(report(0.9, false), undefined, options).deploy, false);
  assert.match(gate(report(0.9, false), undefined, options).reason, /thresholds not met: f1_macro >= 0.99/);
  assert.equal(gate(report(0.95), champion(0.95), options).deploy, false, 'equal is not better');
  assert.equal(gate(report(0.96), champion(0.95), options).deploy, true);
  const margin = gate(report(0.96), champion(0.95), { ...options, margin: 0.02 });
  assert.equal(margin.deploy, false);
  assert.match(margin.reason, /f1_macro 0.9600 vs 0.9500 of version 4 \(margin 0.02\)/);
  // For loss, lower wins.
  assert.equal(gate(report(0.96), champion(0.95), { ...options, metric: 'loss' }).deploy, true);
  assert.equal(gate(report(0.94), champion(0.95), { ...options, metric: 'loss' }).deploy, false);
});

test('force deploys regardless, saying so', () => {
  const forced = gate(report(0.5, false), champion(0.95), { ...options, force: true });
  assert.equal(forced.deploy, true);
  assert.match(forced.reason, /^forced/);
});
