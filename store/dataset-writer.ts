import type { ArtifactRef } from '../core/artifacts';
import type { ArtifactDescription, ArtifactStore } from './artifact-store';
import { writeDataset, type Column, type Row } from './arrow-io';

/**
 * A dataset artifact written by pushing chunks of rows, for steps that fill several outputs from
 * one pass over their input. Each `append` waits until the writer has taken the chunk, so memory
 * holds one chunk per open writer.
 */
export class DatasetWriter {
  private waiting: ((chunk: readonly Row[] | null) => void) | undefined;
  private readonly taken: (() => void)[] = [];
  private readonly result: Promise<ArtifactRef>;
  private failure: Error | undefined;

  constructor(store: ArtifactStore, description: ArtifactDescription, columns?: readonly Column[]) {
    const chunks = this.chunks();
    this.result = writeDataset(store, description, chunks, columns);
    this.result.catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.taken.splice(0).forEach((resume) => resume());
    });
  }

  /** Hands a chunk to the writer; resolves once it has been written. */
  async append(rows: readonly Row[]): Promise<void> {
    this.throwIfFailed();
    if (rows.length === 0) return;
    await new Promise<void>((resume) => {
      this.taken.push(resume);
      this.deliver(rows);
    });
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Ends the dataset and returns its artifact reference. */
  async close(): Promise<ArtifactRef> {
    this.deliver(null);
    return this.result;
  }

  private pending: (readonly Row[] | null)[] = [];

  private deliver(chunk: readonly Row[] | null): void {
    if (this.waiting) {
      const take = this.waiting;
      this.waiting = undefined;
      take(chunk);
    } else {
      this.pending.push(chunk);
    }
  }

  private async *chunks(): AsyncGenerator<readonly Row[]> {
    for (;;) {
      const chunk =
        this.pending.length > 0
          ? this.pending.shift()!
          : await new Promise<readonly Row[] | null>((take) => (this.waiting = take));
      if (chunk === null) return;
      yield chunk;
      this.taken.shift()?.();
    }
  }
}
