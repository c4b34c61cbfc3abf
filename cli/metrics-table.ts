import { readMetricsReport, type MetricsReport } from '../ml/metrics/metrics-report';
import { TASK_METRICS } from '../spec/metrics';
import type { ArtifactRef } from '../spec/types';
import type { PipewrightConfig } from '../worker/config';
import { openLocalState } from '../worker/local-state';
import type { RunOutcome } from './watch-run';

const f4 = (x: number) => x.toFixed(4);

/**
 * A metrics report as text: the task's headline scores, thresholds, per-class (or per entity
 * type) scores and, for classification, the confusion matrix.
 */
export function renderMetricsReport(report: MetricsReport): string[] {
  const scores = TASK_METRICS[report.task]
    .filter((name) => report.metrics[name] !== undefined)
    .map((name) => `${name} ${f4(report.metrics[name]!)}`);
  const lines = [
    `${scores.join('   ')}   ` +
      `(${report.dataset.rows} rows; model ${report.model.sha256.slice(0, 12)} at step ${report.model.step}; ${report.backend})`,
  ];
  for (const t of report.thresholds) lines.push(`${t.passed ? '✔' : '✘'} ${t.condition}  (measured ${f4(t.value)})`);
  const heading = report.task === 'token_classification' ? 'entity' : 'label';
  const width = Math.max(heading.length, ...report.per_class.map((c) => c.label.length));
  lines.push('', `${heading.padEnd(width)}  precision  recall  f1      support`);
  for (const c of report.per_class)
    lines.push(
      `${c.label.padEnd(width)}  ${f4(c.precision).padEnd(9)}  ${f4(c.recall)}  ${f4(c.f1)}  ${String(c.support).padStart(7)}`,
    );
  if (!report.confusion) return lines;
  const cell = Math.max(4, ...report.confusion.flat().map((n) => String(n).length)) + 1;
  lines.push('', `confusion (rows: actual, columns: predicted, in label order)`);
  report.confusion.forEach((row, i) =>
    lines.push(`${report.labels[i]!.padEnd(width)}  ${row.map((n) => String(n).padStart(cell)).join('')}`),
  );
  return lines;
}

/**
 * Prints the metrics table of every validate step when its report is in the local store (the worker
 * shares this machine's state folder); otherwise says how to print them where it is.
 */
export async function printMetrics(config: PipewrightConfig, outcome: RunOutcome, workflowId: string): Promise<void> {
  const scored = outcome.progress?.steps.filter((s) => s.uses === 'validate' && s.outputs?.metrics) ?? [];
  const { store } = openLocalState(config);
  for (const step of scored) {
    const ref = step.outputs!.metrics as ArtifactRef;
    if (!(await store.verify(ref))) {
      process.stdout.write(
        `Metrics of ${step.id}: pipewright report ${workflowId} (where the worker's state folder is)\n`,
      );
      continue;
    }
    const table = renderMetricsReport(await readMetricsReport(store, ref));
    process.stdout.write([`\nMetrics of ${step.id}:`, ...table.map((line) => `  ${line}`)].join('\n') + '\n');
  }
}
