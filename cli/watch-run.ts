import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { PipelineProgress } from '../workflows/progress';
import type { ProgressPrinter } from './render-progress';
import { queryProgress, runProgress } from './run-progress';
import { liveTrainingLine } from './training-live';

export interface RunOutcome {
  readonly status: 'succeeded' | 'failed' | 'cancelled' | 'terminated' | 'timed out';
  readonly progress?: PipelineProgress;
  readonly error?: string;
}

/** Follows a run until it closes, printing progress as it changes. */
export async function watchRun(
  handle: WorkflowHandle,
  printer: ProgressPrinter,
  intervalMs = 500,
): Promise<RunOutcome> {
  let closed = false;
  const outcome = handle.result().then(
    (): RunOutcome => ({ status: 'succeeded' }),
    (error: unknown): RunOutcome => failureOutcome(error),
  );
  void outcome.finally(() => (closed = true));
  let last: PipelineProgress | undefined;
  while (!closed) {
    last = (await queryProgress(handle)) ?? last;
    if (last) printer.update(await withLiveTraining(handle, last));
    await Promise.race([outcome, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  last = (await runProgress(handle)) ?? last;
  if (last) printer.update(last);
  const result = await outcome;
  return { ...result, ...(last && { progress: last }) };
}

/** The progress with each running train step's summary extended by its latest heartbeat. */
async function withLiveTraining(handle: WorkflowHandle, progress: PipelineProgress): Promise<PipelineProgress> {
  const steps = await Promise.all(
    progress.steps.map(async (step) => {
      if (step.status !== 'running' || step.uses !== 'train') return step;
      const live = await liveTrainingLine(handle, step.id);
      return live ? { ...step, summary: [step.summary, live].filter(Boolean).join(' | ') } : step;
    }),
  );
  return { ...progress, steps };
}

function failureOutcome(error: unknown): RunOutcome {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    const name = cause?.name ?? '';
    if (name === 'CancelledFailure') return { status: 'cancelled', error: cause?.message ?? 'cancelled' };
    if (name === 'TerminatedFailure') return { status: 'terminated', error: cause?.message ?? 'terminated' };
    if (name === 'TimeoutFailure') return { status: 'timed out', error: cause?.message ?? 'timed out' };
    return { status: 'failed', error: cause?.message ?? error.message };
  }
  throw error;
}
