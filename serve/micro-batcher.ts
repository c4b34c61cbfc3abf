/** How concurrent requests are grouped into one model call. */
export interface BatchingOptions {
  /** Most instances in one call; 1 turns batching off. */
  readonly maxBatch: number;
  /** Longest a request waits for others to join its batch. */
  readonly maxWaitMs: number;
}

interface Pending<I, O> {
  readonly items: readonly I[];
  readonly resolve: (outputs: O[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Groups the instances of concurrent requests into batches of at most `maxBatch` (a request's
 * instances stay together), waiting at most `maxWaitMs` for a batch to fill, and runs one at a time.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]> | O[],
    private readonly options: BatchingOptions,
  ) {}

  submit(items: readonly I[]): Promise<O[]> {
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (this.queued >= this.options.maxBatch) this.flushSoon(0);
      else this.flushSoon(this.options.maxWaitMs);
    });
  }

  private flushSoon(delayMs: number): void {
    if (this.running) return;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delayMs);
  }

  private async flush(): Promise<void> {
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
      if (this.queue.length > 0) this.flushSoon(this.queued >= this.options.maxBatch ? 0 : this.options.maxWaitMs);
    }
  }
}
