import { heartbeat } from '@temporalio/activity';

/**
 * An activity's heartbeats, sent when it has news and again every `everyMs` with the latest details
 * while the activity awaits (loading weights, writing checkpoints), so a short heartbeat timeout
 * tells a dead worker from a busy one. A synchronous stretch longer than the timeout still counts as
 * silence: the timeout must exceed the longest training step.
 */
export class KeptHeartbeat {
  private latest: unknown;
  private readonly timer: NodeJS.Timeout;

  constructor(initial: unknown, everyMs: number) {
    this.latest = initial;
    this.timer = setInterval(() => heartbeat(this.latest), everyMs);
  }

  beat(details: unknown): void {
    this.latest = details;
    heartbeat(details);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
