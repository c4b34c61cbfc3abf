import type { ActivityContract } from '../activity-catalog';

/** Retry and timeout defaults of the CPU data steps. */
export const DATA_STEP_DEFAULTS: ActivityContract['defaults'] = {
  queue: 'cpu',
  retry: { maximumAttempts: 3, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 },
  timeouts: { startToCloseMs: 30 * 60_000, heartbeatMs: 60_000 },
};
