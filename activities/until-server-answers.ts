import { activityInfo, Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';

const PROBE_INTERVAL_MS = 1_000;

/**
 * Holds an activity's result until the Temporal server answers. The worker retries sending a
 * result only for a few seconds, so one finished during a longer outage would be dropped and the
 * step retried after its heartbeat timeout; held here, it is sent as soon as the server is back.
 * `beat` keeps the attempt alive meanwhile. The wait ends with the attempt's heartbeat timeout (or
 * its start-to-close timeout): by then the server has given the attempt up and a retry finds the
 * work done (the step cache, the epoch's final checkpoint).
 */
export async function untilServerAnswers(beat: () => void): Promise<void> {
  const info = activityInfo();
  const client = workerClient();
  if (!client) return;
  const limitMs = info.heartbeatTimeoutMs ?? info.startToCloseTimeoutMs;
  const deadline = Date.now() + limitMs;
  let told = false;
  for (;;) {
    try {
      await client.workflowService.getSystemInfo({});
      if (told) log.info('the Temporal server answers again; sending the result');
      return;
    } catch (error) {
      if (Date.now() >= deadline) return;
      if (!told) log.warn(`the Temporal server does not answer (${(error as Error).message}); holding the result`);
      told = true;
      beat();
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
  }
}

/** The worker's client, or none for an activity run outside a worker (a mock activity environment). */
function workerClient(): Client | undefined {
  try {
    return Context.current().client;
  } catch {
    return undefined;
  }
}
