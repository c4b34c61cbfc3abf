import type * as Tf from '@tensorflow/tfjs';
import { decoderBlocks, encodeMemory, outputLogits, type DecoderCache, type Memory } from '../models/decoder';
import { EagerOps } from '../models/eager-ops';
import type { EncoderModel } from '../models/encoder-model';

/**
 * An encoder-decoder model decoding a batch of sources one token at a time, without dropout. The
 * source is encoded once; with `cache` (the default) every step feeds only the newest tokens and
 * reuses the keys and values of the earlier ones, so a step costs one token's work; without it,
 * every step runs the decoder over the whole prefix again (the reference the cache is measured
 * against). Call dispose() when done.
 */
export class IncrementalDecoder {
  private readonly ops: EagerOps;
  private readonly memory: Memory<Tf.Tensor>;
  private cache: DecoderCache<Tf.Tensor> | undefined;
  private prefix: Tf.Tensor2D | undefined;
  /** Tokens fed so far. */
  private fed = 0;

  constructor(
    private readonly tf: typeof Tf,
    private readonly model: EncoderModel,
    sources: readonly (readonly number[])[],
    padId: number,
    private readonly useCache = true,
  ) {
    if (model.config.decoderLayers === undefined) throw new TypeError('the model has no decoder');
    this.ops = new EagerOps(tf, { training: false });
    const size = sources.length;
    const length = Math.max(1, ...sources.map((s) => s.length));
    const ids = new Int32Array(size * length).fill(padId);
    const mask = new Float32Array(size * length);
    sources.forEach((source, r) => {
      ids.set(source, r * length);
      mask.fill(1, r * length, r * length + source.length);
    });
    this.memory = tf.tidy(() => {
      const memory = encodeMemory(this.ops, model.lookup, model.config, {
        ids: tf.tensor2d(ids, [size, length], 'int32'),
        mask: tf.tensor2d(mask, [size, length]),
        positions: model.positionEncodings(length),
      });
      return { keys: [...memory.keys], values: [...memory.values], bias: memory.bias };
    });
  }

  /** How many more tokens the model's positions allow. */
  get room(): number {
    return this.model.config.maxLength - this.fed;
  }

  /** Feeds one token per source (the first call: the start token) and returns the next-token logits [batch, vocabulary]. */
  step(tokens: readonly number[]): Tf.Tensor2D {
    const { tf, model, ops } = this;
    if (this.room <= 0) throw new RangeError(`the model has ${model.config.maxLength} positions; all are used`);
    const next = tf.tensor2d(Int32Array.from(tokens), [tokens.length, 1], 'int32');
    const offset = this.fed++;
    if (this.useCache) {
      const { logits, keys, values } = tf.tidy(() => {
        const out = decoderBlocks(
          ops,
          model.lookup,
          model.config,
          { ids: next, positions: model.positionEncodings(1, offset), offset },
          this.memory,
          this.cache,
        );
        return {
          logits: outputLogits(ops, model.lookup, model.config, out.rows) as Tf.Tensor2D,
          keys: [...out.cache.keys],
          values: [...out.cache.values],
        };
      });
      if (this.cache) tf.dispose([...this.cache.keys, ...this.cache.values]);
      this.cache = { keys, values };
      next.dispose();
      return logits;
    }
    const prefix = this.prefix ? tf.concat([this.prefix, next], 1) : next;
    if (this.prefix) {
      this.prefix.dispose();
      next.dispose();
    }
    this.prefix = prefix;
    return tf.tidy(() => {
      const length = offset + 1;
      const { rows } = decoderBlocks(
        ops,
        model.lookup,
        model.config,
        { ids: prefix, positions: model.positionEncodings(length), selfBias: model.causalBias(length) },
        this.memory,
      );
      const last = tf.reshape(rows, [tokens.length, length, -1]).slice([0, length - 1, 0], [-1, 1, -1]);
      return outputLogits(ops, model.lookup, model.config, tf.reshape(last, [tokens.length, -1])) as Tf.Tensor2D;
    });
  }

  dispose(): void {
    this.tf.dispose([...this.memory.keys, ...this.memory.values, this.memory.bias]);
    if (this.cache) this.tf.dispose([...this.cache.keys, ...this.cache.values]);
    this.prefix?.dispose();
  }
}
