import { ActivityCancellationType, type ActivityOptions } from '@temporalio/common';
import type { PlanPolicy, Queue } from '../core/plan';

/** The task queue of a queue kind under a worker's base queue: GPU work goes to `<base>-gpu`. */
export function taskQueueFor(base: string, queue: Queue): string {
  return queue === 'gpu' ? `${base}-gpu` : base;
}

/**
 * Temporal activity options from a step's policy, on `base`'s queue of its kind. A cancelled
 * activity is waited for: steps clean up (training saves a checkpoint) before they stop.
 */
export function activityOptions(policy: PlanPolicy, base: string, summary?: string): ActivityOptions {
  const { retry, timeouts } = policy;
  return {
    taskQueue: taskQueueFor(base, policy.queue),
    startToCloseTimeout: timeouts.startToCloseMs,
    ...(timeouts.heartbeatMs !== undefined && { heartbeatTimeout: timeouts.heartbeatMs }),
    ...(timeouts.scheduleToCloseMs !== undefined && { scheduleToCloseTimeout: timeouts.scheduleToCloseMs }),
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
    },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    ...(summary !== undefined && { summary }),
  };
}
