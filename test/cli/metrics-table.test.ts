import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsReport } from '../../ml/metrics/metrics-report';
import { renderMetricsReport } from '../../cli/metrics-table';

/** A 150-class report (CLINC150's size): 20 rows per class, a few classes confused with others. */
function report150(): MetricsReport {
  const labels = Array.from({ length: 150 }, (_, i) => `intent_${String(i).padStart(3, '0')}`);
  const confusion = labels.map((_, actual) => labels.map((_, predicted) => (actual === predicted ? 20 : 0)));
  const confuse = (actual: number, predicted: number, count: number) => {
    confusion[actual]![actual]! -= count;
    confusion[actual]![predicted]! += count;
  };
  confuse(7, 9, 6);
  confuse(42, 41, 9);
  confuse(100, 3, 2);
  const f1 = (i: number) => (confusion[i]![i]! / 20) * 0.99;
  return {
    task: 'classification',
    model: { sha256: 'a'.repeat(64), step: 10, epoch: 1 },
    dataset: { sha256: 'b'.repeat(64), rows: 3000 },
    backend: 'tensorflow',
    metrics: { accuracy: 0.9943, f1_macro: 0.9941, loss: 0.03 },
    labels,
    per_class: labels.map((label, i) => ({ label, precision: 0.99, recall: 0.99, f1: f1(i), support: 20 })),
    confusion,
    thresholds: [{ condition: 'f1_macro >= 0.9', metric: 'f1_macro', value: 0.9941, passed: true }],
    passed: true,
  };
}

test('a run prints a summary of a 150-class report — the weakest classes and largest confusions — and the full tables only when asked', () => {
  const summary = renderMetricsReport(report150(), 'summary');
  assert.ok(summary.length <= 6, summary.join('\n'));
  assert.ok(Math.max(...summary.map((l) => l.length)) < 300, 'no line is a matrix row');
  assert.match(summary[0]!, /^accuracy 0\.9943 {3}f1_macro 0\.9941 {3}loss 0\.0300/);
  assert.ok(summary.includes('✔ f1_macro >= 0.9  (measured 0.9941)'));
  assert.ok(
    summary.some((l) => l.startsWith('weakest labels by f1: intent_042 0.5445, intent_007 0.6930, intent_100 ')),
  );
  assert.ok(
    summary.includes(
      'most confused (actual → predicted): intent_042 → intent_041 9, intent_007 → intent_009 6, intent_100 → intent_003 2',
    ),
  );
  const full = renderMetricsReport(report150(), 'full');
  assert.equal(full.filter((l) => /^intent_\d{3} {2}0\.9900/.test(l)).length, 150, 'the per-class table');
  assert.equal(full.filter((l) => /^intent_\d{3} +(\s+\d+){150}$/.test(l)).length, 150, 'the confusion matrix');
});

test('an out-of-scope report prints its scores, the rejection thresholds and the out-of-scope row of the matrix', () => {
  const report: MetricsReport = {
    task: 'classification',
    model: { sha256: 'a'.repeat(64), step: 10, epoch: 1 },
    dataset: { sha256: 'b'.repeat(64), rows: 30 },
    backend: 'tensorflow',
    metrics: { accuracy: 0.9, f1_macro: 0.89, loss: 0.2, in_scope_accuracy: 0.95, oos_recall: 0.8, oos_precision: 0.8 },
    labels: ['weather', 'music'],
    per_class: ['weather', 'music', 'oos'].map((label) => ({
      label,
      precision: 0.9,
      recall: 0.9,
      f1: 0.9,
      support: 10,
    })),
    confusion: [
      [10, 0, 0],
      [0, 9, 1],
      [1, 1, 8],
    ],
    out_of_scope: {
      label: 'oos',
      reject_below: 0.7,
      rows: 10,
      rejected: 9,
      curve: [0.5, 0.7].map((reject_below, i) => ({
        reject_below,
        rejected: 4 + 5 * i,
        in_scope_accuracy: 0.95,
        oos_recall: 0.4 + 0.4 * i,
        oos_precision: 0.8,
      })),
    },
    thresholds: [{ condition: 'oos_recall >= 0.5', metric: 'oos_recall', value: 0.8, passed: true }],
    passed: true,
  };
  const lines = renderMetricsReport(report, 'full');
  assert.match(lines[0]!, /loss 0\.2000 {3}in_scope_accuracy 0\.9500 {3}oos_recall 0\.8000 {3}oos_precision 0\.8000/);
  assert.equal(lines[1], '10 rows out of scope (oos), 9 predictions rejected below 0.7');
  const curve = lines.indexOf('rejection thresholds (* the one used)');
  assert.deepEqual(lines.slice(curve + 1, curve + 4), [
    'reject below  rejected  in-scope accuracy  oos recall  oos precision',
    '         0.5         4             0.9500      0.4000         0.8000',
    '       * 0.7         9             0.9500      0.8000         0.8000',
  ]);
  assert.match(lines.at(-1)!, /^oos {5}\s+1\s+1\s+8$/);
  assert.ok(
    renderMetricsReport(report, 'summary').some((l) => l.includes('oos → weather 1')),
    'the summary names the out-of-scope class in confusions',
  );
});
