import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runDecoderStepGraph, runMemoryGraph } from '../graph/graph-runner';
import { decoderBlocks, encodeMemory, outputLogits, type DecoderCache, type Memory } from '../models/decoder';
import { EagerOps } from '../models/eager-ops';
import type { EncoderModel } from '../models/encoder-model';

/** What the decoder is fed at one step: new tokens [batch, tokens] after `past` earlier ones, and their self-attention bias [tokens, keys]. */
interface StepFeeds {
  readonly ids: Tf.Tensor2D;
  readonly past: number;
  readonly selfBias: Tf.Tensor2D;
}

/**
 * An encoder-decoder model decoding a batch of sources one token at a time, without dropout. The
 * source is encoded once; with `cache` (the default) every step feeds only the newest tokens and
 * reuses the keys and values of the earlier ones, so a step costs one token's work; without it,
 * every step runs the decoder over the whole prefix again (the reference the cache is measured
 * against). On the native CPU backend each step is one TensorFlow graph call (ml/graph/), else
 * TensorFlow.js ops. `copies` decodes every source that many times side by side (rows r·copies …
 * r·copies + copies − 1), as beam search does. Call dispose() when done.
 */
export class IncrementalDecoder {
  private readonly ops: EagerOps;
  private readonly memory: Memory<Tf.Tensor>;
  private readonly graphs: boolean;
  private cache: DecoderCache<Tf.Tensor> | undefined;
  /** The tokens fed so far [rows, fed], kept when there is no cache. */
  private prefix: Tf.Tensor2D | undefined;
  /** Tokens fed so far. */
  private fed = 0;

  constructor(
    private readonly tf: typeof Tf,
    private readonly model: EncoderModel,
    sources: readonly (readonly number[])[],
    padId: number,
    private readonly useCache = true,
    copies = 1,
  ) {
    if (model.config.decoderLayers === undefined) throw new TypeError('the model has no decoder');
    this.ops = new EagerOps(tf, { training: false });
    this.graphs = graphsAvailable(tf);
    const rows = sources.flatMap((source) => Array<readonly number[]>(copies).fill(source));
    const length = Math.max(1, ...rows.map((s) => s.length));
    const ids = new Int32Array(rows.length * length).fill(padId);
    const mask = new Float32Array(rows.length * length);
    rows.forEach((source, r) => {
      ids.set(source, r * length);
      mask.fill(1, r * length, r * length + source.length);
    });
    // The source is encoded once: one graph call on the native backend, else TensorFlow.js ops.
    this.memory = tf.tidy(() => {
      const source = {
        ids: tf.tensor2d(ids, [rows.length, length], 'int32'),
        mask: tf.tensor2d(mask, [rows.length, length]),
      };
      const memory = this.graphs
        ? runMemoryGraph(tf, model, source)
        : encodeMemory(this.ops, model.lookup, model.config, { ...source, positions: model.positionEncodings(length) });
      return { keys: [...memory.keys], values: [...memory.values], bias: memory.bias };
    });
  }

  /** How many more tokens the model's positions allow. */
  get room(): number {
    return this.model.config.maxLength - this.fed;
  }

  /** Feeds one token per row (the first call: the start token) and returns the next-token logits [rows, vocabulary]. */
  step(tokens: readonly number[]): Tf.Tensor2D {
    const { tf, model } = this;
    if (this.room <= 0) throw new RangeError(`the model has ${model.config.maxLength} positions; all are used`);
    const next = tf.tensor2d(Int32Array.from(tokens), [tokens.length, 1], 'int32');
    const past = this.fed++;
    if (this.useCache) {
      const feeds = { ids: next, past, selfBias: tf.zeros<Tf.Rank.R2>([1, past + 1]) };
      const { logits, cache } = this.run(feeds, this.cache);
      this.replaceCache(cache);
      tf.dispose([next, feeds.selfBias]);
      return logits;
    }
    const prefix = this.prefix ? tf.concat([this.prefix, next], 1) : next;
    if (this.prefix) {
      this.prefix.dispose();
      next.dispose();
    }
    this.prefix = prefix;
    const length = past + 1;
    const feeds = { ids: prefix, past: 0, selfBias: model.causalBias(length) };
    const { logits, cache } = this.run(feeds, undefined);
    tf.dispose([feeds.selfBias, ...cache.keys, ...cache.values]);
    return logits;
  }

  /**
   * Row i continues what row rows[i] decoded so far (beam search's reordering): the cache, or the
   * prefix, is gathered by `rows`. Every row stays with its own source.
   */
  reorder(rows: readonly number[]): void {
    const { tf } = this;
    const indices = tf.tensor1d(Int32Array.from(rows), 'int32');
    if (this.cache) {
      const { keys, values } = this.cache;
      this.replaceCache({
        keys: keys.map((k) => tf.gather(k, indices)),
        values: values.map((v) => tf.gather(v, indices)),
      });
    }
    if (this.prefix) {
      const gathered = tf.gather(this.prefix, indices);
      this.prefix.dispose();
      this.prefix = gathered;
    }
    indices.dispose();
  }

  /** The decoder over `feeds` after `cache` (none: no earlier tokens): the last token's logits and the grown cache. */
  private run(
    feeds: StepFeeds,
    cache: DecoderCache<Tf.Tensor> | undefined,
  ): { logits: Tf.Tensor2D; cache: DecoderCache<Tf.Tensor> } {
    const { tf, model, ops } = this;
    if (this.graphs) {
      const empty = cache ? undefined : this.emptyCache(feeds.ids.shape[0]);
      try {
        const { ids, selfBias } = feeds;
        return runDecoderStepGraph(tf, model, { ids, selfBias, cache: cache ?? empty!, memory: this.memory });
      } finally {
        if (empty) tf.dispose([...empty.keys, ...empty.values]);
      }
    }
    return tf.tidy(() => {
      const [rows, length] = feeds.ids.shape;
      const positions = model.positionEncodings(length, feeds.past);
      const out = decoderBlocks(ops, model.lookup, model.config, { ...feeds, positions }, this.memory, cache);
      const last = tf.reshape(out.rows, [rows, length, -1]).slice([0, length - 1, 0], [-1, 1, -1]);
      return {
        logits: outputLogits(ops, model.lookup, model.config, tf.reshape(last, [rows, -1])) as Tf.Tensor2D,
        cache: { keys: [...out.cache.keys], values: [...out.cache.values] },
      };
    });
  }

  /** A cache of no tokens, [rows, heads, 0, head size] per block: what the graph is fed before the first token. */
  private emptyCache(rows: number): DecoderCache<Tf.Tensor> {
    const { config } = this.model;
    const shape = [rows, config.heads, 0, config.hidden / config.heads];
    const blocks = [...Array(config.decoderLayers).keys()];
    return { keys: blocks.map(() => this.tf.zeros(shape)), values: blocks.map(() => this.tf.zeros(shape)) };
  }

  private replaceCache(cache: DecoderCache<Tf.Tensor>): void {
    if (this.cache) this.tf.dispose([...this.cache.keys, ...this.cache.values]);
    this.cache = cache;
  }

  dispose(): void {
    this.tf.dispose([...this.memory.keys, ...this.memory.values, this.memory.bias]);
    if (this.cache) this.tf.dispose([...this.cache.keys, ...this.cache.values]);
    this.prefix?.dispose();
  }
}
