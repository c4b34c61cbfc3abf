import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsReport } from '../../ml/metrics/metrics-report';
import { renderRunReportHtml } from '../../report/html-report';
import type { RunReport } from '../../report/run-report';
import { lineChart, ticks } from '../../report/svg-charts';

const HOSTILE = '<script>alert("x")</script> & "quoted" \'single\'';

function classificationReport(classes: number): MetricsReport {
  const labels = Array.from({ length: classes }, (_, i) => `intent_${String(i).padStart(3, '0')}`);
  // Row a: 10 right, and (a % 7) rows taken for the next class.
  const confusion = labels.map((_, a) => labels.map((_, p) => (p === a ? 10 : p === (a + 1) % classes ? a % 7 : 0)));
  return {
    task: 'classification',
    model: { sha256: 'ab'.repeat(32), step: 120, epoch: 2 },
    dataset: { sha256: 'cd'.repeat(32), rows: classes * 13 },
    backend: 'tensorflow',
    metrics: { accuracy: 0.8, f1_macro: 0.79, loss: 0.5 },
    labels,
    per_class: labels.map((label, i) => ({ label, precision: 0.9, recall: 0.8, f1: (i % 10) / 10, support: 13 })),
    confusion,
    mistakes: [{ text: HOSTILE, actual: labels[0]!, predicted: labels[1]!, probability: 0.97 }],
    thresholds: [{ condition: 'f1_macro >= 0.9', metric: 'f1_macro', value: 0.9, passed: false }],
    passed: false,
  };
}

function runReport(evaluation: MetricsReport): RunReport {
  return {
    workflowId: 'clinc-1',
    progress: {
      pipeline: 'clinc',
      status: 'failed',
      params: { note: HOSTILE },
      steps: [{ id: 'evaluate', uses: 'validate', queue: 'pipewright', status: 'failed', error: HOSTILE }],
      startedAt: Date.UTC(2026, 11, 3),
      endedAt: Date.UTC(2026, 11, 3, 0, 1),
      error: HOSTILE,
    },
    trainings: [],
    evaluations: [{ step: 'evaluate', output: 'metrics', report: evaluation }],
    deploys: [],
    lineage: [],
  };
}

test('text from the run is escaped: the only script in a report is its own zoom script', () => {
  const html = renderRunReportHtml(runReport(classificationReport(3)));
  assert.equal(html.match(/<script>/g)!.length, 1);
  assert.ok(!html.includes('alert("x")'), 'user text is never markup');
  assert.ok(
    html.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#34;quoted&#34; &#39;single&#39;'),
  );
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
});

test('a 150-class evaluation stays readable: every class as a bar weakest first, the top 20 confusions listed', () => {
  const html = renderRunReportHtml(runReport(classificationReport(150)));
  const bars = [...html.matchAll(/<g class="bar"><title>(intent_\d+): ([\d.]+)/g)];
  assert.equal(bars.length, 150);
  const f1s = bars.map((b) => Number(b[2]));
  assert.deepEqual(
    f1s,
    [...f1s].sort((a, b) => a - b),
    'weakest first',
  );
  assert.equal(html.match(/<rect class="cell"/g)!.length, 150 + 150 - Math.ceil(150 / 7), 'non-empty cells only');
  const confusions = html.split('<table class="confusions">')[1]!.split('</table>')[0]!;
  const counts = [...confusions.matchAll(/<td>(\d+)<\/td><\/tr>/g)].map((m) => Number(m[1]));
  assert.equal(counts.length, 20);
  assert.ok(
    counts.every((c) => c === 6),
    `the rows with 6 confusions come first: ${counts.join(',')}`,
  );
  assert.match(html, /data-zoom="confusion-0"/);
  assert.match(html, /f1_macro &#62;= 0\.9/);
});

test('an out-of-scope evaluation names its extra class in the confusion matrix and lists the rejection thresholds', () => {
  const base = classificationReport(3);
  // Three intents and the out-of-scope class: its rows taken for intent 1 twice, one intent-0 row rejected.
  const confusion = [
    [9, 0, 0, 1],
    [0, 10, 0, 0],
    [0, 0, 10, 0],
    [0, 2, 0, 8],
  ];
  const point = (reject_below: number, rejected: number) => ({
    reject_below,
    rejected,
    in_scope_accuracy: 0.9667,
    oos_recall: 0.8,
    oos_precision: 0.8889,
  });
  const html = renderRunReportHtml(
    runReport({
      ...base,
      confusion,
      out_of_scope: { label: 'oos', reject_below: 0.8, rows: 10, rejected: 9, curve: [point(0.5, 3), point(0.8, 9)] },
    }),
  );
  assert.match(html, /10 rows out of scope \(oos\), 9 predictions rejected below 0\.8/);
  const thresholds = html.split('<h3>Rejection thresholds (* the one used)</h3>')[1]!.split('</table>')[0]!;
  assert.deepEqual(
    [...thresholds.matchAll(/<tr><td>([^<]+)<\/td><td>(\d+)<\/td>/g)].map((m) => [m[1], m[2]]),
    [
      ['0.5', '3'],
      ['* 0.8', '9'],
    ],
  );
  const confusions = html.split('<table class="confusions">')[1]!.split('</table>')[0]!;
  assert.match(confusions, /<td>oos<\/td><td>intent_001<\/td><td>2<\/td>/, 'the out-of-scope class is named');
  assert.match(confusions, /<td>intent_000<\/td><td>oos<\/td><td>1<\/td>/);
});

test('a tagger’s sentences mark gold and predicted entity spans', () => {
  const report: MetricsReport = {
    ...classificationReport(3),
    task: 'token_classification',
    labels: ['O', 'B-LOC', 'I-LOC'],
    per_class: [{ label: 'LOC', precision: 0.5, recall: 1, f1: 0.667, support: 1 }],
    confusion: undefined,
    mistakes: undefined,
    tagged: [
      {
        words: ['fly', 'to', 'new', 'york'],
        actual: ['O', 'O', 'B-LOC', 'I-LOC'],
        predicted: ['O', 'B-LOC', 'O', 'B-LOC'],
      },
    ],
  };
  const html = renderRunReportHtml(runReport(report));
  const [gold, predicted] = html.split('<div class="tagged predicted">');
  assert.match(gold!, /<mark class="entity" title="LOC">new york<sub>LOC<\/sub><\/mark>/);
  assert.match(
    predicted!,
    /<mark class="entity" title="LOC">to<sub>LOC<\/sub><\/mark> new <mark class="entity" title="LOC">york/,
  );
});

test('chart ticks are round numbers, whole ones on a count axis, and non-finite points are left out', () => {
  assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(1, 2, 5, 1), [1, 2]);
  assert.deepEqual(ticks(3, 3), [3]);
  const chart = lineChart({
    title: 'loss',
    xLabel: 'epoch',
    wholeX: true,
    series: [
      {
        name: 'validation loss',
        points: [
          [1, 0.5],
          [2, Number.NaN],
          [3, 0.25],
        ],
      },
    ],
  });
  assert.equal(chart.match(/<circle/g)?.length ?? 0, 2);
  assert.ok(!chart.includes('NaN'));
  assert.equal(lineChart({ title: 'empty', xLabel: 'epoch', series: [{ name: 'x', points: [[1, Number.NaN]] }] }), '');
});
