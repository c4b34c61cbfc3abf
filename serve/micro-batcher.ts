/** How concurrent requests are grouped into one model call. */
export interface BatchingOptions {
  /** Most instances in one call; 1 turns batching off. */
  readonly maxBatch: number;
  /** Longest a request waits for others to join its batch. */
  readonly maxWaitMs: number;
}

/**
 * How long a request that finds the model idle waits for others to join its batch: not at all when
 * the batch before held one request (nobody else is sending, and waiting would be pure latency),
 * else `maxWaitMs`.
 */
export function idleWaitMs(lastBatchRequests: number, options: BatchingOptions): number {
  return lastBatchRequests <= 1 ? 0 : options.maxWaitMs;
}

interface Pending<I, O> {
  readonly items: readonly I[];
  readonly resolve: (outputs: O[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Groups the instances of concurrent requests into batches of at most `maxBatch` (a request's
 * instances stay together) and runs one at a time. A batch starts when `maxBatch` instances wait,
 * or `maxWaitMs` after its first request arrived — unless the batch before held one request: then
 * nobody else is sending, and waiting for company is pure latency, so a request that finds the
 * model idle starts at once (with whatever arrived in the same event-loop turn).
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private starting: NodeJS.Immediate | undefined;
  private running = false;
  /** Requests in the last batch run; a lone one means there is no company to wait for. */
  private lastBatchRequests = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]> | O[],
    private readonly options: BatchingOptions,
  ) {}

  submit(items: readonly I[]): Promise<O[]> {
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (this.running) return;
      if (this.queued >= this.options.maxBatch || idleWaitMs(this.lastBatchRequests, this.options) === 0)
        this.startSoon();
      else this.waitForCompany();
    });
  }

  private waitForCompany(): void {
    this.timer ??= setTimeout(() => void this.flush(), this.options.maxWaitMs);
  }

  /** Runs the queue after the requests of this event-loop turn have joined it. */
  private startSoon(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.starting ??= setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.starting = undefined;
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch: Pending<I, O>[] = [];
    let size = 0;
    while (
      this.queue.length > 0 &&
      (batch.length === 0 || size + this.queue[0]!.items.length <= this.options.maxBatch)
    ) {
      const next = this.queue.shift()!;
      batch.push(next);
      size += next.items.length;
    }
    this.queued -= size;
    this.lastBatchRequests = batch.length;
    try {
      const outputs = await this.run(batch.flatMap((p) => p.items));
      let offset = 0;
      for (const p of batch) {
        p.resolve(outputs.slice(offset, offset + p.items.length));
        offset += p.items.length;
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.running = false;
      if (this.queued >= this.options.maxBatch) this.startSoon();
      else if (this.queue.length > 0) this.waitForCompany();
    }
  }
}
