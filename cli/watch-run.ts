import {
  ApplicationFailure,
  isGrpcServiceError,
  ServiceError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { FAILURE_ADVICE, failureKind, type FailureKind, type FailureType } from '../core/failures';
import type { PipelineProgress } from '../workflows/progress';
import { GRPC_CODES } from './grpc-codes';
import type { ProgressPrinter } from './render-progress';
import { queryProgress, runProgress } from './run-progress';
import { liveTrainingLine } from './training-live';

export interface RunOutcome {
  readonly status: 'succeeded' | 'failed' | 'cancelled' | 'terminated' | 'timed out';
  readonly progress?: PipelineProgress;
  readonly error?: string;
  /** For a failed run, the failure type that ended it, as deep in the cause chain as ours go, and its kind. */
  readonly failure?: { readonly type: FailureType; readonly kind: FailureKind };
}

/** Whether the server is reachable, as a run is followed: told when it is lost and when it is back. */
export type ConnectionNotice = (state: 'lost' | 'restored') => void;

/** Waits between attempts to reach a server that has gone away. */
const RECONNECT_MS = 2_000;

/**
 * Follows a run until it closes, printing progress as it changes. The run lives on the server, so
 * losing the server ends nothing: the result is asked for again until the server answers.
 */
export async function watchRun(
  handle: WorkflowHandle,
  printer: ProgressPrinter,
  intervalMs = 500,
  onConnection: ConnectionNotice = () => undefined,
): Promise<RunOutcome> {
  let closed = false;
  const outcome = resultAcrossOutages(handle, onConnection);
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

async function resultAcrossOutages(handle: WorkflowHandle, onConnection: ConnectionNotice): Promise<RunOutcome> {
  let lost = false;
  for (;;) {
    try {
      await handle.result();
      if (lost) onConnection('restored');
      return { status: 'succeeded' };
    } catch (error) {
      if (!serverUnreachable(error)) {
        if (lost) onConnection('restored');
        return failureOutcome(error);
      }
      if (!lost) onConnection('lost');
      lost = true;
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  }
}

/** The server is down or not answering, which waiting can mend. */
const UNREACHABLE_CODES: readonly number[] = [GRPC_CODES.UNAVAILABLE, GRPC_CODES.DEADLINE_EXCEEDED];

function serverUnreachable(error: unknown): boolean {
  if (!(error instanceof ServiceError)) return false;
  return isGrpcServiceError(error.cause) && UNREACHABLE_CODES.includes(error.cause.code);
}

/** How a run that did not succeed ended, from the error its result raised. */
export function failureOutcome(error: unknown): RunOutcome {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    const name = cause?.name ?? '';
    if (name === 'CancelledFailure') return { status: 'cancelled', error: cause?.message ?? 'cancelled' };
    if (name === 'TerminatedFailure') return { status: 'terminated', error: cause?.message ?? 'terminated' };
    if (name === 'TimeoutFailure') return { status: 'timed out', error: cause?.message ?? 'timed out' };
    const failure = ourFailure(error);
    return { status: 'failed', error: cause?.message ?? error.message, ...(failure && { failure }) };
  }
  throw error;
}

/** The deepest failure in a cause chain whose type is one of ours (a step's, under the run's StepFailed). */
function ourFailure(error: Error): RunOutcome['failure'] {
  let found: RunOutcome['failure'];
  for (let at: unknown = error; at instanceof Error; at = at.cause) {
    const type = at instanceof ApplicationFailure ? at.type : undefined;
    const kind = type == null ? undefined : failureKind(type);
    if (kind) found = { type: type as FailureType, kind };
  }
  return found;
}

/** What the CLI says under a failed run: the failure's type and kind, and what to do about it. */
export function failureAdvice(failure: NonNullable<RunOutcome['failure']>): string {
  return `(${failure.type}, a failure of kind ${failure.kind}: ${FAILURE_ADVICE[failure.kind]})`;
}
