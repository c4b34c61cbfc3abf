import type * as Tf from '@tensorflow/tfjs';
import type { EncoderModel } from '../models/encoder-model';
import { IncrementalDecoder } from './incremental-decoder';
import { bannedTokens, type TokenBans } from './banned-tokens';
import { GREEDY, tokenPicker, type SamplingOptions, type TokenPicker } from './sampling';

/** How a batch of sources is decoded; every sequence of the batch may sample its own way. */
export interface DecodingOptions {
  readonly padId: number;
  /** The token the decoder starts from. */
  readonly startId: number;
  /** The token that ends a sequence; it is not part of the output. */
  readonly stopId: number;
  /** At most this many tokens per sequence (fewer when the model's positions run out). */
  readonly maxNewTokens: number;
  /** The stop token is not chosen before this many tokens (default 0). */
  readonly minNewTokens?: number;
  /** No n-gram of this size is generated twice in a sequence (default 0: no such rule). */
  readonly noRepeatNgram?: number;
  /** Reuse earlier tokens' keys and values (default); false re-runs the prefix at every step. */
  readonly useCache?: boolean;
  /** Per sequence; absent, greedy. */
  readonly sampling?: readonly SamplingOptions[];
}

/** Why a sequence ended: its stop token, the token limit, or its caller. */
export type FinishReason = 'stop' | 'length' | 'cancelled';

/**
 * Autoregressive decoding of a batch of sources, one step (one token per unfinished sequence) per
 * call of step(), so a caller can stream tokens, stop a sequence, or yield to other work between
 * steps. Finished and stopped sequences take no more tokens. Disposes its tensors when done.
 */
export class DecodingRun {
  /** The new tokens of every sequence so far. */
  readonly tokens: number[][];
  /** Per sequence: why it ended, or undefined while it runs. */
  readonly finished: (FinishReason | undefined)[];
  private readonly decoder: IncrementalDecoder;
  private readonly pickers: TokenPicker[];
  private readonly bans: TokenBans;
  private last: number[];
  private released = false;

  constructor(
    tf: typeof Tf,
    model: EncoderModel,
    sources: readonly (readonly number[])[],
    private readonly options: DecodingOptions,
  ) {
    this.decoder = new IncrementalDecoder(tf, model, sources, options.padId, options.useCache ?? true);
    this.tokens = sources.map(() => []);
    this.finished = sources.map(() => undefined);
    this.pickers = sources.map((_, r) => tokenPicker(options.sampling?.[r] ?? GREEDY));
    this.last = sources.map(() => options.startId);
    this.bans = banRules(options);
  }

  get done(): boolean {
    return !this.finished.includes(undefined);
  }

  /** Ends a sequence early; once all have ended, the run lets go of its tensors. */
  stop(row: number): void {
    this.finished[row] ??= 'cancelled';
    this.releaseWhenDone();
  }

  private releaseWhenDone(): void {
    if (!this.done || this.released) return;
    this.released = true;
    this.decoder.dispose();
  }

  /** Decodes one more token for every unfinished sequence; returns the rows that got one. */
  step(): number[] {
    if (this.done) return [];
    const { options } = this;
    const logits = this.decoder.step(this.last);
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    const vocabulary = values.length / this.last.length;
    const grown: number[] = [];
    this.last = this.last.map((previous, r) => {
      if (this.finished[r] !== undefined) return previous;
      const token = this.pickers[r]!(
        values.subarray(r * vocabulary, (r + 1) * vocabulary),
        bannedTokens(this.tokens[r]!, this.bans),
      );
      if (token === options.stopId) {
        this.finished[r] = 'stop';
        return token;
      }
      this.tokens[r]!.push(token);
      grown.push(r);
      if (this.tokens[r]!.length >= options.maxNewTokens) this.finished[r] = 'length';
      return token;
    });
    if (!this.done && this.decoder.room <= 0)
      this.finished.forEach((f, r) => {
        if (f === undefined) this.finished[r] = 'length';
      });
    this.releaseWhenDone();
    return grown;
  }
}

/** The rules on next tokens that `options` sets. */
export function banRules(options: DecodingOptions): TokenBans {
  return { stopId: options.stopId, minNewTokens: options.minNewTokens ?? 0, noRepeatNgram: options.noRepeatNgram ?? 0 };
}

/** Decodes a batch to the end at once: the new tokens per source. */
export function decodeAll(
  tf: typeof Tf,
  model: EncoderModel,
  sources: readonly (readonly number[])[],
  options: DecodingOptions,
): number[][] {
  const run = new DecodingRun(tf, model, sources, options);
  while (!run.done) run.step();
  return run.tokens;
}
