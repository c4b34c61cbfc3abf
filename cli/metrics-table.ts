import { readFile } from 'node:fs/promises';
import type { MetricsReport } from '../ml/metrics';
import type { ArtifactRef } from '../spec/types';
import type { ArtifactStore } from '../store/artifact-store';

/** Reads a `validate` metrics report artifact. */
export async function readMetricsReport(
  store: ArtifactStore,
  ref: Pick<ArtifactRef, 'sha256'>,
): Promise<MetricsReport> {
  return JSON.parse(await readFile(await store.localPath(ref), 'utf8')) as MetricsReport;
}

const f4 = (x: number) => x.toFixed(4);

/** A metrics report as text: headline scores, thresholds, per-class scores and the confusion matrix. */
export function renderMetricsReport(report: MetricsReport): string[] {
  const lines = [
    `accuracy ${f4(report.accuracy)}   macro-F1 ${f4(report.f1_macro)}   loss ${f4(report.loss)}   ` +
      `(${report.dataset.rows} rows; model ${report.model.sha256.slice(0, 12)} at step ${report.model.step}; ${report.backend})`,
  ];
  for (const t of report.thresholds) lines.push(`${t.passed ? '✔' : '✘'} ${t.condition}  (measured ${f4(t.value)})`);
  const width = Math.max(5, ...report.labels.map((l) => l.length));
  lines.push('', `${'label'.padEnd(width)}  precision  recall  f1      support`);
  for (const c of report.per_class)
    lines.push(
      `${c.label.padEnd(width)}  ${f4(c.precision).padEnd(9)}  ${f4(c.recall)}  ${f4(c.f1)}  ${String(c.support).padStart(7)}`,
    );
  const cell = Math.max(4, ...report.confusion.flat().map((n) => String(n).length)) + 1;
  lines.push('', `confusion (rows: actual, columns: predicted, in label order)`);
  report.confusion.forEach((row, i) =>
    lines.push(`${report.labels[i]!.padEnd(width)}  ${row.map((n) => String(n).padStart(cell)).join('')}`),
  );
  return lines;
}
