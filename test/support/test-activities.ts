import {
  activityInfo,
  ApplicationFailure,
  cancellationSignal,
  CancelledFailure,
  heartbeat,
  sleep,
} from '@temporalio/activity';
import type { StepInput, StepResult } from '../../activities';
import type { ActivityContract } from '../../core/activity-catalog';
import type { ExtraActivities } from '../../worker/create-workers';

const TEST_DEFAULTS: ActivityContract['defaults'] = {
  queue: 'cpu',
  retry: { maximumAttempts: 1, initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 1000 },
  timeouts: { startToCloseMs: 60_000, heartbeatMs: 5_000 },
};

/** Test-only activities: `wait` sleeps while heartbeating, `flaky` fails its first attempts. */
export const TEST_CONTRACTS: ActivityContract[] = [
  {
    name: 'wait',
    summary: 'Sleeps, heartbeating; records when it ran.',
    inputs: {},
    outputs: {
      started: { type: 'number', description: 'epoch ms' },
      ended: { type: 'number', description: 'epoch ms' },
      value: { type: 'number', description: 'echo of with.value' },
    },
    with: {
      type: 'object',
      additionalProperties: false,
      required: ['ms'],
      properties: { ms: { type: 'integer', minimum: 0 }, value: { type: 'number', default: 0 } },
    },
    defaults: TEST_DEFAULTS,
  },
  {
    name: 'flaky',
    summary: 'Fails its first fail_times attempts, then succeeds.',
    inputs: {},
    outputs: { attempts: { type: 'number', description: 'attempt that succeeded' } },
    with: {
      type: 'object',
      additionalProperties: false,
      required: ['fail_times'],
      properties: { fail_times: { type: 'integer', minimum: 0 }, non_retryable: { type: 'boolean', default: false } },
    },
    defaults: TEST_DEFAULTS,
  },
];

/** What the test activities saw, for assertions: cancellations by step id. */
export const observed = { cancelled: new Set<string>() };

async function wait(input: StepInput): Promise<StepResult> {
  const ms = input.with.ms as number;
  const started = Date.now();
  try {
    while (Date.now() - started < ms) {
      heartbeat({ elapsed: Date.now() - started });
      await sleep(Math.min(100, Math.max(1, ms - (Date.now() - started))));
    }
  } catch (error) {
    if (error instanceof CancelledFailure || cancellationSignal().aborted) observed.cancelled.add(input.stepId);
    throw error;
  }
  return {
    outputs: { started, ended: Date.now(), value: input.with.value ?? 0 },
    summary: `waited ${ms} ms`,
    cached: false,
  };
}

async function flaky(input: StepInput): Promise<StepResult> {
  const { attempt } = activityInfo();
  if (attempt <= (input.with.fail_times as number)) {
    if (input.with.non_retryable === true)
      throw ApplicationFailure.nonRetryable(`flaky failure on attempt ${attempt}`, 'FlakyFailure');
    throw ApplicationFailure.retryable(`flaky failure on attempt ${attempt}`, 'FlakyFailure');
  }
  await Promise.resolve();
  return { outputs: { attempts: attempt }, summary: `succeeded on attempt ${attempt}`, cached: false };
}

export const TEST_ACTIVITIES: ExtraActivities = { contracts: TEST_CONTRACTS, implementations: { wait, flaky } };
