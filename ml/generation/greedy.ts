import type * as Tf from '@tensorflow/tfjs';
import type { EncoderModel } from '../models/encoder-model';
import { IncrementalDecoder } from './incremental-decoder';

/** How a batch of sources is decoded. */
export interface GreedyOptions {
  readonly padId: number;
  /** The token the decoder starts from. */
  readonly startId: number;
  /** The token that ends a sequence; it is not part of the output. */
  readonly stopId: number;
  /** At most this many tokens per sequence (fewer when the model's positions run out). */
  readonly maxNewTokens: number;
  /** The stop token is not chosen before this many tokens (default 0). */
  readonly minNewTokens?: number;
  /** Reuse earlier tokens' keys and values (default); false re-runs the prefix at every step. */
  readonly useCache?: boolean;
}

/** Logits [batch, vocabulary] with one token's column at −∞, so it is never chosen. */
function withoutToken(tf: typeof Tf, logits: Tf.Tensor2D, token: number): Tf.Tensor2D {
  const vocabulary = logits.shape[1];
  const hidden = tf.oneHot(tf.tensor1d([token], 'int32'), vocabulary).toBool();
  return tf.where(hidden, tf.fill(logits.shape, -Infinity), logits);
}

/** Greedy decoding: at every step each unfinished sequence takes its most likely next token. Returns the new tokens per source. */
export function generateGreedy(
  tf: typeof Tf,
  model: EncoderModel,
  sources: readonly (readonly number[])[],
  options: GreedyOptions,
): number[][] {
  const decoder = new IncrementalDecoder(tf, model, sources, options.padId, options.useCache ?? true);
  const outputs: number[][] = sources.map(() => []);
  const done = sources.map(() => false);
  try {
    let tokens = sources.map(() => options.startId);
    for (let t = 0; t < options.maxNewTokens && decoder.room > 0 && done.includes(false); t++) {
      const logits = decoder.step(tokens);
      const early = t < (options.minNewTokens ?? 0);
      const best = tf.tidy(
        () => tf.argMax(early ? withoutToken(tf, logits, options.stopId) : logits, 1).dataSync() as Int32Array,
      );
      logits.dispose();
      tokens = Array.from(best);
      tokens.forEach((token, r) => {
        if (done[r]) return;
        if (token === options.stopId) done[r] = true;
        else outputs[r]!.push(token);
      });
    }
    return outputs;
  } finally {
    decoder.dispose();
  }
}
