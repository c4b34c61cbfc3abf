import { RecordBatchFileWriter, RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const EMPTY = Symbol('empty');

/**
 * Writes Arrow record batches to a Node stream with backpressure. arrow-js writers queue their
 * bytes without limit; this sink moves the queue into `out` after every batch and waits whenever
 * `out` is full, so memory holds about one batch whatever the dataset's size.
 */
export class ArrowSink {
  private readonly writer: RecordBatchFileWriter | RecordBatchStreamWriter;
  private readonly queue: AsyncIterator<Uint8Array>;
  private pending: Promise<IteratorResult<Uint8Array>> | undefined;

  constructor(
    private readonly out: Writable,
    format: 'file' | 'stream',
  ) {
    this.writer = format === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
    this.queue = this.writer[Symbol.asyncIterator]();
  }

  async write(batch: RecordBatch): Promise<void> {
    this.writer.write(batch);
    await this.flush(false);
  }

  /** Writes the footer and everything still queued; does not end `out`. */
  async finish(): Promise<void> {
    this.writer.finish();
    await this.flush(true);
  }

  private async flush(untilDone: boolean): Promise<void> {
    for (;;) {
      this.pending ??= this.queue.next();
      // A queue holding bytes answers next() with a settled promise, which wins the race.
      const result = untilDone ? await this.pending : await Promise.race([this.pending, Promise.resolve(EMPTY)]);
      if (result === EMPTY) return;
      this.pending = undefined;
      if (result.done) return;
      if (!this.out.write(result.value)) await once(this.out, 'drain');
    }
  }
}
