import { readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../spec/types';
import type { ArtifactStore } from '../store/artifact-store';
import type { ClassificationMetrics } from './metrics';

/** The JSON a `validate` step stores as its `metrics` report artifact. */
export interface MetricsReport {
  readonly task: 'classification';
  readonly model: { readonly sha256: string; readonly step: number; readonly epoch: number };
  readonly dataset: { readonly sha256: string; readonly rows: number };
  readonly backend: string;
  readonly accuracy: number;
  readonly f1_macro: number;
  readonly loss: number;
  readonly labels: readonly string[];
  readonly per_class: ClassificationMetrics['perClass'];
  readonly confusion: ClassificationMetrics['confusion'];
  readonly thresholds: readonly { condition: string; metric: string; value: number; passed: boolean }[];
  readonly passed: boolean;
}

/** Reads a `validate` metrics report artifact (its digest verified). */
export async function readMetricsReport(
  store: ArtifactStore,
  ref: Pick<ArtifactRef, 'sha256'>,
): Promise<MetricsReport> {
  return JSON.parse(await readFile(await store.localPath(ref), 'utf8')) as MetricsReport;
}
