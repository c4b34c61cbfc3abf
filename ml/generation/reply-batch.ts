import type * as Tf from '@tensorflow/tfjs';
import type { EncoderModel } from '../models/encoder-model';
import { DecodingRun, type DecodingOptions } from './decoding-run';
import type { SamplingOptions } from './sampling';

/** One reply wanted: its source ids, how to sample it, how long it may be and the texts that end it. */
export interface ReplyRequest {
  readonly source: readonly number[];
  readonly sampling: SamplingOptions;
  readonly maxNewTokens: number;
  /** The reply ends before the first of these it would contain. */
  readonly stop: readonly string[];
}

/** New text of one reply after a step, and whether (and why) the reply has ended. */
export interface ReplyDelta {
  readonly reply: number;
  readonly text: string;
  readonly finish?: 'stop' | 'length';
}

/**
 * Replies decoded together in one batch, step by step: each step gives every running reply's new
 * text (held back while it ends inside a UTF-8 character or could be the start of a stop text),
 * replies can be cancelled at any step, and new ones join between steps (continuous batching).
 * What the tokens decode to comes from `decode`.
 */
export class ReplyBatch {
  private readonly run: DecodingRun;
  private readonly requests: ReplyRequest[];
  private readonly sent: number[];
  private readonly ended: boolean[];
  readonly texts: string[];

  constructor(
    tf: typeof Tf,
    model: EncoderModel,
    requests: readonly ReplyRequest[],
    options: Pick<DecodingOptions, 'padId' | 'startId' | 'stopId' | 'minNewTokens' | 'noRepeatNgram'>,
    private readonly decode: (ids: readonly number[]) => string,
  ) {
    this.run = new DecodingRun(
      tf,
      model,
      requests.map((r) => r.source),
      {
        ...options,
        maxNewTokens: Math.max(...requests.map((r) => r.maxNewTokens)),
        sampling: requests.map((r) => r.sampling),
      },
    );
    this.requests = [...requests];
    this.sent = requests.map(() => 0);
    this.ended = requests.map(() => false);
    this.texts = requests.map(() => '');
  }

  get done(): boolean {
    return this.run.done;
  }

  /** Replies still being decoded. */
  get running(): number {
    return this.run.running;
  }

  /** More replies, decoded from the next step on, numbered after those there are. Not once the batch is done. */
  join(requests: readonly ReplyRequest[]): void {
    this.run.join(requests);
    for (const request of requests) {
      this.requests.push(request);
      this.sent.push(0);
      this.ended.push(false);
      this.texts.push('');
    }
  }

  /** Tokens generated for a reply so far. */
  tokens(reply: number): number {
    return this.run.tokens[reply]!.length;
  }

  /** Stops generating a reply (its client went away). */
  cancel(reply: number): void {
    this.ended[reply] = true;
    this.run.stop(reply);
  }

  /** One decoding step; the replies that have new text or have ended. */
  step(): ReplyDelta[] {
    this.run.step();
    const deltas: ReplyDelta[] = [];
    this.requests.forEach((request, r) => {
      if (this.ended[r]) return;
      let text = this.decode(this.run.tokens[r]!);
      let finish: ReplyDelta['finish'] =
        this.run.finished[r] === 'stop' ? 'stop' : this.run.finished[r] === 'length' ? 'length' : undefined;
      if (finish === undefined && this.run.tokens[r]!.length >= request.maxNewTokens) finish = 'length';
      const at = firstStop(text, request.stop);
      if (at !== undefined) {
        text = text.slice(0, at);
        finish = 'stop';
      }
      this.texts[r] = text;
      // Held back: a partial character, or a tail that may grow into a stop text.
      const safe = finish ? text.length : safeLength(text, request.stop);
      if (safe > this.sent[r]! || finish)
        deltas.push({ reply: r, text: text.slice(this.sent[r], safe), ...(finish && { finish }) });
      this.sent[r] = Math.max(this.sent[r]!, safe);
      if (finish) {
        this.ended[r] = true;
        this.run.stop(r);
      }
    });
    return deltas;
  }
}

function firstStop(text: string, stops: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}

/** How much of a text can be sent: not a trailing replacement character, nor a tail that begins a stop text. */
function safeLength(text: string, stops: readonly string[]): number {
  let safe = text.endsWith('\ufffd') ? text.length - 1 : text.length;
  for (const stop of stops)
    for (let k = Math.min(stop.length - 1, safe); k > 0; k--)
      if (text.slice(safe - k, safe) === stop.slice(0, k)) {
        safe -= k;
        break;
      }
  return safe;
}
