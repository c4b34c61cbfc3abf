import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ReplyDelta, ReplyRequest } from '../ml/generation/reply-batch';
import type { ChatModel } from '../ml/tasks/task';
import { idleWaitMs, type BatchingOptions } from './micro-batcher';

/** One chat request's replies (its `n` choices) and where their text goes as it is decoded. */
export interface ChatJob {
  readonly replies: readonly ReplyRequest[];
  /** New text of choice `choice`; `finish` set on its last delta. */
  readonly onDelta: (choice: number, delta: Omit<ReplyDelta, 'reply'>, tokens: number) => void;
  /** True once the client has gone: its replies stop being decoded. */
  readonly cancelled: () => boolean;
}

/** The chat model being served and its registry version, at the time a batch starts. */
export type ChatSource = () => { readonly chat: ChatModel; readonly version: number } | undefined;

/**
 * Replies one batch takes in all, those that joined it included: a batch keeps every reply's
 * bookkeeping and text until it ends, so once it has taken this many, newcomers wait for the next.
 */
export const REPLIES_PER_BATCH = 1_024;

interface Queued {
  readonly job: ChatJob;
  readonly resolve: (version: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Decodes concurrent chat requests together: the replies of requests that arrive within
 * `maxWaitMs` of each other (at most `maxBatch`) form one batch, decoded a token per step for all
 * of them, yielding to the event loop between steps so text streams out as it is made and
 * departed clients are noticed. Requests that arrive while a batch runs join it at the next step
 * while its replies number fewer than `maxBatch` and the model version is still the one being
 * served (continuous batching), until it has taken REPLIES_PER_BATCH; ended replies leave it.
 * After a batch of one request, the next starts without waiting (idleWaitMs). A cancelled
 * request's replies stop; the batch ends when all have.
 */
export class ChatScheduler {
  private queue: Queued[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** Requests in the last batch decoded. */
  private lastBatchRequests = 0;
  /** Replies of the running batch not yet ended or cancelled. */
  private open: number[] = [];

  constructor(
    private readonly source: ChatSource,
    private readonly options: BatchingOptions,
  ) {}

  /** Replies being decoded now; those of departed clients are not. */
  get decoding(): number {
    return this.open.reduce((a, b) => a + b, 0);
  }

  /** Replies waiting for the running batch to end. */
  get waiting(): number {
    return this.queue.reduce((a, q) => a + q.job.replies.length, 0);
  }

  /** Resolves, with the version that replied, when every reply of the job has ended. */
  submit(job: ChatJob): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    this.timer = setTimeout(() => void this.runBatch(), idleWaitMs(this.lastBatchRequests, this.options));
  }

  /**
   * Queued requests, in order, whose replies fit beside `running` ones and within `room` more
   * (the first always fits an empty batch).
   */
  private takeQueued(running: number, room: number): Queued[] {
    const taken: Queued[] = [];
    let size = running;
    let added = 0;
    while (this.queue.length > 0) {
      const replies = this.queue[0]!.job.replies.length;
      const fits = size + replies <= this.options.maxBatch && added + replies <= room;
      if (!fits && !(taken.length === 0 && running === 0)) break;
      taken.push(this.queue.shift()!);
      size += replies;
      added += replies;
    }
    return taken;
  }

  private async runBatch(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    const taken = this.takeQueued(0, REPLIES_PER_BATCH);
    const answered = new Set<number>();
    this.lastBatchRequests = taken.length;
    try {
      const served = this.source();
      if (!served) throw new Error('no chat model version is loaded');
      // Reply rows of the batch: job k's choices follow job k − 1's.
      const owners = taken.flatMap((q, k) => q.job.replies.map((_, choice) => ({ k, choice })));
      const batch = served.chat.replies(taken.flatMap((q) => q.job.replies));
      const open = taken.map((q) => q.job.replies.length);
      this.open = open;
      while (!batch.done) {
        if (this.source()?.version === served.version) {
          const joining = this.takeQueued(batch.running, REPLIES_PER_BATCH - owners.length);
          if (joining.length > 0) {
            batch.join(joining.flatMap((q) => q.job.replies));
            for (const q of joining) {
              const k = taken.push(q) - 1;
              owners.push(...q.job.replies.map((_, choice) => ({ k, choice })));
              open.push(q.job.replies.length);
            }
            this.lastBatchRequests += joining.length;
          }
        }
        taken.forEach((q, k) => {
          if (open[k] === 0 || !q.job.cancelled()) return;
          owners.forEach((owner, row) => owner.k === k && batch.cancel(row));
          open[k] = 0;
        });
        if (batch.done) break;
        for (const delta of batch.step()) {
          const { k, choice } = owners[delta.reply]!;
          taken[k]!.job.onDelta(
            choice,
            { text: delta.text, ...(delta.finish && { finish: delta.finish }) },
            batch.tokens(delta.reply),
          );
          if (delta.finish) open[k]!--;
        }
        // A request is answered when its replies have ended, while the batch may go on with others.
        taken.forEach((q, k) => {
          if (open[k] !== 0 || answered.has(k)) return;
          answered.add(k);
          q.resolve(served.version);
        });
        await nextTurn();
      }
      taken.forEach((q, k) => answered.has(k) || q.resolve(served.version));
    } catch (error) {
      taken.forEach((q, k) => answered.has(k) || q.reject(error));
    } finally {
      this.open = [];
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
