import { lowerIsBetter, type Metric } from '../core/metrics';
import type { ArtifactRef } from '../core/artifacts';

/** One finished epoch as the training workflow remembers it. */
export interface EpochRecord {
  /** 1-based. */
  readonly epoch: number;
  readonly checkpoint: ArtifactRef;
  readonly step: number;
  readonly trainLoss: number;
  readonly samplesPerSecond: number;
  readonly seconds: number;
  /** The validation metrics the task reports, by name. */
  readonly validation: Readonly<Partial<Record<Metric, number>>>;
  readonly report: ArtifactRef;
  readonly resumedAt?: { readonly step: number; readonly batch: number };
}

/** An epoch's value of the monitored metric; NaN (never better) when the task does not report it. */
function score(epoch: EpochRecord, monitor: Metric): number {
  return epoch.validation[monitor] ?? Number.NaN;
}

function better(value: number, than: number, monitor: Metric, minDelta: number): boolean {
  return lowerIsBetter(monitor) ? value < than - minDelta : value > than + minDelta;
}

/** The epoch with the best monitored value; the earliest wins ties. */
export function bestEpoch(epochs: readonly EpochRecord[], monitor: Metric): EpochRecord | undefined {
  let best: EpochRecord | undefined;
  for (const e of epochs) if (!best || better(score(e, monitor), score(best, monitor), monitor, 0)) best = e;
  return best;
}

/**
 * True when the monitored value has not improved by more than `minDelta` on its best for
 * `patience` epochs in a row.
 */
export function shouldStopEarly(
  epochs: readonly EpochRecord[],
  monitor: Metric,
  patience: number,
  minDelta: number,
): boolean {
  let best: number | undefined;
  let sinceImprovement = 0;
  for (const e of epochs) {
    const value = score(e, monitor);
    if (best === undefined || better(value, best, monitor, minDelta)) {
      best = value;
      sinceImprovement = 0;
    } else {
      sinceImprovement++;
    }
  }
  return sinceImprovement >= patience;
}

/** The epoch checkpoints to keep: the `keepLast` newest and the `keepBest` best by the monitor. */
export function retainedCheckpoints(
  epochs: readonly EpochRecord[],
  monitor: Metric,
  keepLast: number,
  keepBest: number,
): Set<string> {
  const newest = epochs.slice(-keepLast);
  const ranked = [...epochs].sort((a, b) => {
    const diff = score(a, monitor) - score(b, monitor);
    return (lowerIsBetter(monitor) ? diff : -diff) || a.epoch - b.epoch;
  });
  return new Set([...newest, ...ranked.slice(0, keepBest)].map((e) => e.checkpoint.sha256));
}
