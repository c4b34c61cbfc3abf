import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { PipelineProgress } from '../workflows/progress';
import { progressQuery } from '../workflows/pipeline';
import type { ProgressPrinter } from './render-progress';

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
    if (last) printer.update(last);
    await Promise.race([outcome, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  last = (await queryProgress(handle)) ?? last;
  if (last) printer.update(last);
  const result = await outcome;
  return { ...result, ...(last && { progress: last }) };
}

async function queryProgress(handle: WorkflowHandle): Promise<PipelineProgress | undefined> {
  try {
    return await handle.query(progressQuery);
  } catch {
    // Not started on a worker yet, or no worker left to answer: keep the last answer.
    return undefined;
  }
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
