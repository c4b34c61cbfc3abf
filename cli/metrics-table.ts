import {
  outOfScopeSummary,
  readMetricsReport,
  rejectionCurveCells,
  scoredLabels,
  type MetricsReport,
} from '../ml/metrics/metrics-report';
import type { GeneratedExample } from '../ml/tasks/task';
import { validatedMetrics, type Metric } from '../core/metrics';
import type { ArtifactRef } from '../core/artifacts';
import { droppedSummary } from '../store/row-history';
import type { PipewrightConfig } from '../worker/config';
import { textTable } from '../workflows/text-table';
import { openLocalState } from '../worker/local-state';
import type { RunOutcome } from './watch-run';

const f4 = (x: number) => x.toFixed(4);

/** How much of a report to print: the headline and what most needs a look, or every table. */
export type ReportDetail = 'summary' | 'full';

/** Rows of the weakest classes and the largest confusions a summary shows. */
const SUMMARY_ROWS = 5;

/**
 * A metrics report as text: the task's headline scores, the counts behind them, thresholds, then
 * in full the per-class (or per entity type) scores, the scores per group, generated examples
 * (sequence to sequence) and, for classification, the confusion matrix; a summary shows only the
 * weakest classes and the largest confusions instead of the tables.
 */
export function renderMetricsReport(report: MetricsReport, detail: ReportDetail = 'full'): string[] {
  const names = validatedMetrics(report.task).filter((name) => report.metrics[name] !== undefined);
  const scores = names.map((name) => `${name} ${f4(report.metrics[name]!)}`);
  const lines = [
    `${scores.join('   ')}   ` +
      `(${report.dataset.rows} rows; model ${report.model.sha256.slice(0, 12)} at step ${report.model.step}; ${report.backend})`,
  ];
  if (report.counts)
    lines.push(
      Object.entries(report.counts)
        .map(([name, n]) => `${name.replaceAll('_', ' ')} ${n}`)
        .join(', '),
    );
  if (report.out_of_scope) lines.push(outOfScopeSummary(report.out_of_scope));
  if (report.upstream?.dropped.length) lines.push(`note: ${droppedSummary(report.upstream.dropped)}`);
  for (const t of report.thresholds) lines.push(`${t.passed ? '✔' : '✘'} ${t.condition}  (measured ${f4(t.value)})`);
  if (detail === 'summary') return [...lines, ...summaryLines(report)];
  const heading = report.task === 'token_classification' ? 'entity' : 'label';
  const width = Math.max(heading.length, ...report.per_class.map((c) => c.label.length));
  if (report.per_class.length > 0) lines.push('', `${heading.padEnd(width)}  precision  recall  f1      support`);
  for (const c of report.per_class)
    lines.push(
      `${c.label.padEnd(width)}  ${f4(c.precision).padEnd(9)}  ${f4(c.recall)}  ${f4(c.f1)}  ${String(c.support).padStart(7)}`,
    );
  if (report.out_of_scope) {
    const { header, rows } = rejectionCurveCells(report.out_of_scope);
    lines.push(
      '',
      'rejection thresholds (* the one used)',
      ...textTable(
        header,
        rows,
        header.map(() => 'right'),
      ),
    );
  }
  if (report.groups) lines.push('', ...renderGroups(report.groups, names));
  if (report.examples?.length) lines.push('', 'generated (first rows)', ...report.examples.flatMap(renderExample));
  if (!report.confusion) return lines;
  const cell = Math.max(4, ...report.confusion.flat().map((n) => String(n).length)) + 1;
  lines.push('', `confusion (rows: actual, columns: predicted, in label order)`);
  const labels = scoredLabels(report);
  report.confusion.forEach((row, i) =>
    lines.push(`${labels[i]!.padEnd(width)}  ${row.map((n) => String(n).padStart(cell)).join('')}`),
  );
  return lines;
}

/** The weakest classes by F1 and the most frequent confusions, a line each; none when there is no per-class table. */
function summaryLines(report: MetricsReport): string[] {
  const lines: string[] = [];
  if (report.per_class.length > SUMMARY_ROWS) {
    const weakest = [...report.per_class].sort((a, b) => a.f1 - b.f1 || a.label.localeCompare(b.label));
    lines.push(
      `weakest ${report.task === 'token_classification' ? 'entity types' : 'labels'} by f1: ${weakest
        .slice(0, SUMMARY_ROWS)
        .map((c) => `${c.label} ${f4(c.f1)}`)
        .join(', ')}`,
    );
  }
  const labels = scoredLabels(report);
  const confusions = (report.confusion ?? [])
    .flatMap((row, actual) => row.map((count, predicted) => ({ actual, predicted, count })))
    .filter((c) => c.actual !== c.predicted && c.count > 0)
    .sort((a, b) => b.count - a.count || a.actual - b.actual || a.predicted - b.predicted);
  if (confusions.length > 0)
    lines.push(
      `most confused (actual → predicted): ${confusions
        .slice(0, SUMMARY_ROWS)
        .map((c) => `${labels[c.actual]} → ${labels[c.predicted]} ${c.count}`)
        .join(', ')}`,
    );
  return lines;
}

/** A generation beside its source turns and target. */
function renderExample(example: GeneratedExample): string[] {
  return [
    ...example.source.map((turn) => `  > ${turn}`),
    `  target:    ${example.target}`,
    `  generated: ${example.generated}`,
    '',
  ];
}

/** One line per group: its name, rows and the task's metrics. */
function renderGroups(groups: NonNullable<MetricsReport['groups']>, metrics: readonly Metric[]): string[] {
  const by = groups.match === undefined ? groups.column : `${groups.column} ~ /${groups.match}/`;
  const width = Math.max('group'.length, ...groups.scores.map((g) => g.group.length));
  const columns = metrics.map((m) => Math.max(m.length, 6));
  return [
    `per group (by ${by})`,
    `${'group'.padEnd(width)}  ${'rows'.padStart(6)}  ${metrics.map((m, i) => m.padEnd(columns[i]!)).join('  ')}`,
    ...groups.scores.map(
      (g) =>
        `${g.group.padEnd(width)}  ${String(g.rows).padStart(6)}  ${metrics
          .map((m, i) => (g.metrics[m] === undefined ? '-' : f4(g.metrics[m])).padEnd(columns[i]!))
          .join('  ')}`,
    ),
  ];
}

/**
 * Prints the metrics of every validate step when its report is in the local store (the worker
 * shares this machine's state folder); otherwise says how to print them where it is.
 */
export async function printMetrics(
  config: PipewrightConfig,
  outcome: RunOutcome,
  workflowId: string,
  detail: ReportDetail = 'full',
): Promise<void> {
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
    const table = renderMetricsReport(await readMetricsReport(store, ref), detail);
    process.stdout.write([`\nMetrics of ${step.id}:`, ...table.map((line) => `  ${line}`)].join('\n') + '\n');
  }
}
