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

/** What a row that joins a run decodes: at most this many tokens, sampled this way (absent: greedy). */
export interface JoiningRow {
  readonly source: readonly number[];
  readonly maxNewTokens: number;
  readonly sampling?: SamplingOptions;
}

/**
 * Autoregressive decoding of a batch of sources, one step (one token per unfinished sequence) per
 * call of step(), so a caller can stream tokens, stop a sequence, or yield to other work between
 * steps. Finished and stopped sequences take no more tokens and leave the decoder's batch; with
 * the key/value cache, new sequences can join it between steps (join), numbered after the ones
 * there are. Disposes its tensors when every sequence has ended.
 */
export class DecodingRun {
  /** The new tokens of every sequence so far. */
  readonly tokens: number[][];
  /** Per sequence: why it ended, or undefined while it runs. */
  readonly finished: (FinishReason | undefined)[];
  private readonly decoder: IncrementalDecoder;
  private readonly pickers: TokenPicker[];
  private readonly limits: number[];
  private readonly bans: TokenBans;
  private readonly last: number[];
  /** The sequence of each of the decoder's rows. */
  private active: number[];
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
    this.limits = sources.map(() => options.maxNewTokens);
    this.last = sources.map(() => options.startId);
    this.active = sources.map((_, r) => r);
    this.bans = banRules(options);
  }

  get done(): boolean {
    return !this.finished.includes(undefined);
  }

  /** Sequences being decoded. */
  get running(): number {
    return this.active.length;
  }

  /** New sequences, decoded from the next step on; returns their numbers. Not once the run is done. */
  join(rows: readonly JoiningRow[]): number[] {
    if (this.released) throw new Error('the decoding run has ended; start a new one');
    this.compact();
    this.decoder.join(rows.map((row) => row.source));
    return rows.map((row) => {
      const r = this.tokens.length;
      this.tokens.push([]);
      this.finished.push(undefined);
      this.pickers.push(tokenPicker(row.sampling ?? GREEDY));
      this.limits.push(row.maxNewTokens);
      this.last.push(this.options.startId);
      this.active.push(r);
      return r;
    });
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

  /** Ended sequences leave the decoder's batch. */
  private compact(): void {
    if (this.released || this.active.every((r) => this.finished[r] === undefined)) return;
    const rows = this.active.flatMap((r, i) => (this.finished[r] === undefined ? [i] : []));
    this.decoder.keep(rows);
    this.active = rows.map((i) => this.active[i]!);
  }

  /** Decodes one more token for every unfinished sequence; returns the sequences that got one. */
  step(): number[] {
    if (this.done) return [];
    this.compact();
    const { options } = this;
    const logits = this.decoder.step(this.active.map((r) => this.last[r]!));
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    const vocabulary = values.length / this.active.length;
    const grown: number[] = [];
    this.active.forEach((r, i) => {
      const token = this.pickers[r]!(
        values.subarray(i * vocabulary, (i + 1) * vocabulary),
        bannedTokens(this.tokens[r]!, this.bans),
      );
      this.last[r] = token;
      if (token === options.stopId) {
        this.finished[r] = 'stop';
        return;
      }
      this.tokens[r]!.push(token);
      grown.push(r);
      if (this.tokens[r]!.length >= this.limits[r]! || this.decoder.roomOf(i) <= 0) this.finished[r] = 'length';
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
