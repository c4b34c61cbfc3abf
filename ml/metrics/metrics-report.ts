import type { Metric, TrainTask } from '../../core/metrics';
import type { ArtifactRef } from '../../core/artifacts';
import type { ArtifactStore } from '../../store/artifact-store';
import type { DatasetRows, DroppedRows } from '../../store/row-history';
import type { ClassScore, GeneratedExample, Mistake, OutOfScopeCounts, TaggedExample } from '../tasks/task';

/** The JSON a `validate` step stores as its `metrics` report artifact. */
export interface MetricsReport {
  readonly task: TrainTask;
  readonly model: { readonly sha256: string; readonly step: number; readonly epoch: number };
  readonly dataset: { readonly sha256: string; readonly rows: number };
  readonly backend: string;
  /** Every metric the task reports (TASK_METRICS), by name. */
  readonly metrics: Readonly<Partial<Record<Metric, number>>>;
  /** The model's class names by id: labels, or tags for token classification. */
  readonly labels: readonly string[];
  /** Per class (classification) or per entity type (token classification). */
  readonly per_class: readonly ClassScore[];
  /** confusion[actual][predicted] counts, in label order (classification; scoredLabels names them). */
  readonly confusion?: readonly (readonly number[])[];
  /** Counts behind the metrics (question answering: windows, windows without the answer). */
  readonly counts?: Readonly<Record<string, number>>;
  /** The first rows' generations beside their targets (sequence to sequence). */
  readonly examples?: readonly GeneratedExample[];
  /** The rows the model was most confidently wrong about, most confident first (classification). */
  readonly mistakes?: readonly Mistake[];
  /** The first sentences with a wrongly tagged word (token classification). */
  readonly tagged?: readonly TaggedExample[];
  /** How rows of none of the classes were scored (classification, validate's out_of_scope). */
  readonly out_of_scope?: OutOfScopeCounts;
  /** The task's metrics per group of rows, when the validate step had `group_by`. */
  readonly groups?: {
    readonly column: string;
    readonly match?: string;
    readonly scores: readonly GroupScore[];
  };
  /** The datasets the scored one was made from, source first, and the steps that left out rows on the way. */
  readonly upstream?: { readonly chain: readonly DatasetRows[]; readonly dropped: readonly DroppedRows[] };
  readonly thresholds: readonly { condition: string; metric: string; value: number; passed: boolean }[];
  readonly passed: boolean;
}

/** The metrics of one group of rows (e.g. one bAbI task). */
export interface GroupScore {
  readonly group: string;
  /** Rows (texts, or questions for question answering) scored in the group. */
  readonly rows: number;
  readonly metrics: Readonly<Partial<Record<Metric, number>>>;
  readonly counts?: Readonly<Record<string, number>>;
}

/** The names of the confusion matrix's and per_class's classes: the model's, then the out-of-scope class when scored. */
export function scoredLabels(report: Pick<MetricsReport, 'labels' | 'out_of_scope'>): readonly string[] {
  return report.out_of_scope ? [...report.labels, report.out_of_scope.label] : report.labels;
}

/** `12 rows out of scope (oos), 15 predictions rejected below 0.5`: how out-of-scope rows were scored. */
export function outOfScopeSummary(scored: OutOfScopeCounts): string {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return `${plural(scored.rows, 'row')} out of scope (${scored.label}), ${plural(scored.rejected, 'prediction')} rejected below ${scored.reject_below}`;
}

/** The rejection curve as a header and rows of cells, for the terminal's and the HTML report's tables; the used threshold is marked. */
export function rejectionCurveCells(scored: OutOfScopeCounts): { header: string[]; rows: string[][] } {
  return {
    header: ['reject below', 'rejected', 'in-scope accuracy', 'oos recall', 'oos precision'],
    rows: scored.curve.map((p) => [
      `${p.reject_below === scored.reject_below ? '* ' : ''}${p.reject_below}`,
      String(p.rejected),
      p.in_scope_accuracy.toFixed(4),
      p.oos_recall.toFixed(4),
      p.oos_precision.toFixed(4),
    ]),
  };
}

/** Reads a `validate` metrics report artifact (its digest verified). */
export async function readMetricsReport(
  store: ArtifactStore,
  ref: Pick<ArtifactRef, 'sha256'>,
): Promise<MetricsReport> {
  return JSON.parse((await store.read(ref)).toString('utf8')) as MetricsReport;
}
