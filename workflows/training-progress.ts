import type { TrainCancellation } from '../activities';
import type { Metric } from '../core/metrics';
import { codeBlock, textTable, type Align } from './text-table';
import { bestEpoch, type EpochRecord } from './training-policy';

/** The id of the training workflow a run's train step starts: `<run id>.<step id>`. */
export function trainingWorkflowId(runWorkflowId: string, stepId: string): string {
  return `${runWorkflowId}.${stepId}`;
}

/** What the `trainingProgress` query answers and the Web UI shows for a training workflow. */
export interface TrainingProgress {
  readonly step: string;
  status: 'training' | 'finished' | 'stopped' | 'cancelled';
  readonly epochs: number;
  readonly monitor: Metric;
  /** The validation metrics the task reports, the epoch table's columns. */
  readonly metrics: readonly Metric[];
  history: readonly EpochRecord[];
  /** The epoch in flight and what it is doing; step-level progress is in the train activity's heartbeats. */
  current?: { readonly epoch: number; readonly phase: 'shuffling' | 'training' | 'validating' };
  backend?: string;
  stopReason?: string;
  /** Where a cancelled run's training stopped and the checkpoint it saved there. */
  cancelled?: TrainCancellation;
  readonly startedAt: number;
}

/** A train step's epochs as table cells: epoch, step, train loss, each validation metric, samples/s and time. */
export function epochCells(
  progress: TrainingProgress,
  epochs: readonly EpochRecord[] = progress.history,
): { header: string[]; rows: string[][] } {
  return {
    header: ['epoch', 'step', 'train loss', ...progress.metrics.map((m) => `val ${m}`), 'samples/s', 'time'],
    rows: epochs.map((e) => [
      `${e.epoch}${resumedNote(e)}`,
      String(e.step),
      e.trainLoss.toFixed(4),
      ...progress.metrics.map((m) => (e.validation[m] ?? Number.NaN).toFixed(4)),
      e.samplesPerSecond.toFixed(1),
      `${e.seconds.toFixed(1)}s`,
    ]),
  };
}

/** How an epoch's training was interrupted: resumed from a checkpoint, or trained to its end by an attempt whose result was lost (its final checkpoint taken up). */
function resumedNote(epoch: EpochRecord): string {
  if (!epoch.resumedAt) return '';
  return epoch.resumedAt.step === epoch.step
    ? ' (finished by an earlier attempt)'
    : ` (resumed at step ${epoch.resumedAt.step})`;
}

/** A train step's epochs as aligned text lines, numbers flush right. */
export function epochTable(progress: TrainingProgress, epochs: readonly EpochRecord[] = progress.history): string[] {
  const { header, rows } = epochCells(progress, epochs);
  return textTable(header, rows, ['left', ...Array<Align>(header.length - 1).fill('right')]);
}

/**
 * Where a training stands between epochs, in words: cancelled, or in flight or ended with the
 * epochs done ("3 of 6": the Web UI's markdown would turn "3/6" into a fraction).
 */
function trainingState(progress: TrainingProgress): string {
  if (progress.cancelled) return cancelledText(progress.cancelled, progress.epochs);
  const done = `${progress.history.length} of ${progress.epochs} epochs`;
  return progress.status === 'training' ? `${done} so far` : `${progress.status}, ${done}`;
}

/** A train step's epoch table under its state, for the terminal (`pipewright status`, `report`). */
export function epochTableText(progress: TrainingProgress): string[] {
  return [
    `training ${progress.step}: ${trainingState(progress)}${progress.stopReason && !progress.cancelled ? ` (${progress.stopReason})` : ''}, best by ${progress.monitor}`,
    ...epochTable(progress),
  ];
}

/**
 * The epoch table shown in the Temporal Web UI (`setCurrentDetails`): a markdown headline over the
 * text table in a code block, bounded to the latest epochs and the best.
 */
export function trainingMarkdown(progress: TrainingProgress, nowMs: number): string {
  const done = progress.history.length;
  const elapsed = nowMs - progress.startedAt;
  const eta = done === 0 ? undefined : (elapsed / done) * (progress.epochs - done);
  const state =
    progress.current && !progress.cancelled
      ? `epoch ${progress.current.epoch} of ${progress.epochs} ${progress.current.phase} (step progress: the train activity's heartbeat details)`
      : trainingState(progress);
  const shown = shownEpochs(progress);
  const lines = [
    `**training ${progress.step}** — ${state}${eta !== undefined && progress.status === 'training' ? ` · ETA ${Math.round(eta / 1000)}s` : ''}${progress.backend ? ` · backend ${progress.backend}` : ''}`,
    '',
    codeBlock(epochTable(progress, shown)),
  ];
  const hidden = progress.history.length - shown.length;
  if (hidden > 0)
    lines.push('', `${hidden} earlier epoch(s) not shown; \`pipewright status <run id>\` lists every epoch.`);
  if (progress.stopReason) lines.push('', `Stopped: ${progress.stopReason}`);
  lines.push(
    '',
    progress.status === 'training'
      ? `Best model by ${progress.monitor}; send the \`stopTraining\` signal to stop after the current epoch.`
      : `Best model by ${progress.monitor}.`,
  );
  return lines.join('\n');
}

/** Where a cancelled training stopped, for people: the epoch, the step and the checkpoint saved there. */
export function cancelledText(cancelled: TrainCancellation, epochs: number): string {
  const saved = cancelled.checkpoint
    ? `checkpoint ${cancelled.checkpoint.sha256.slice(0, 12)} saved`
    : 'no checkpoint saved';
  return `cancelled in epoch ${cancelled.epoch} of ${epochs} at step ${cancelled.step}, ${saved}`;
}

/** Epochs the Web UI's table shows: the latest ones, and the best by the monitored metric when it is older. */
export const SHOWN_EPOCHS = 10;

function shownEpochs(progress: TrainingProgress): EpochRecord[] {
  const latest = progress.history.slice(-SHOWN_EPOCHS);
  const best = bestEpoch(progress.history, progress.monitor);
  return best && !latest.includes(best) ? [best, ...latest] : latest;
}
