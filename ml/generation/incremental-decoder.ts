import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runDecoderStepGraph, runMemoryGraph } from '../graph/graph-runner';
import { decoderBlocks, encodeMemory, outputLogits, type DecoderCache, type Memory } from '../models/decoder';
import { HIDDEN_KEY } from '../models/attention';
import { EagerOps } from '../models/eager-ops';
import type { EncoderModel } from '../models/encoder-model';

/**
 * What the decoder is fed at one step: new tokens [rows, tokens], their positions [rows, tokens]
 * and the self-attention bias [rows or 1, 1, tokens, keys].
 */
interface StepFeeds {
  readonly ids: Tf.Tensor2D;
  readonly positionIds: Tf.Tensor2D;
  readonly selfBias: Tf.Tensor4D;
}

/**
 * An encoder-decoder model decoding a batch of sources one token at a time, without dropout. The
 * source is encoded once; with `cache` (the default) every step feeds only the newest tokens and
 * reuses the keys and values of the earlier ones, so a step costs one token's work; without it,
 * every step runs the decoder over the whole prefix again (the reference the cache is measured
 * against). On the native CPU backend each step is one TensorFlow graph call (ml/graph/), else
 * TensorFlow.js ops. `copies` decodes every source that many times side by side (rows r·copies …
 * r·copies + copies − 1), as beam search does. A cached decoder takes new rows between steps
 * (join) and lets rows go (keep): each row has its own position, and the cache slots filled
 * before a row joined are hidden from it. Call dispose() when done.
 */
export class IncrementalDecoder {
  private readonly ops: EagerOps;
  private readonly graphs: boolean;
  private memory: Memory<Tf.Tensor>;
  private cache: DecoderCache<Tf.Tensor> | undefined;
  /** The tokens fed so far [rows, fed], kept when there is no cache. */
  private prefix: Tf.Tensor2D | undefined;
  /** Per row: tokens fed so far, which is the position of its next one. */
  private fed: number[];
  /** Per row: the first cache slot holding one of its tokens (a row that joined later owns the later ones). */
  private firstSlot: number[];
  /** Slots in the cache. */
  private slots = 0;

  constructor(
    private readonly tf: typeof Tf,
    private readonly model: EncoderModel,
    sources: readonly (readonly number[])[],
    private readonly padId: number,
    private readonly useCache = true,
    copies = 1,
  ) {
    if (model.config.decoderLayers === undefined) throw new TypeError('the model has no decoder');
    this.ops = new EagerOps(tf, { training: false });
    this.graphs = graphsAvailable(tf);
    const rows = sources.flatMap((source) => Array<readonly number[]>(copies).fill(source));
    this.memory = this.encode(rows);
    this.fed = rows.map(() => 0);
    this.firstSlot = rows.map(() => 0);
  }

  /** The rows decoded. */
  get rows(): number {
    return this.fed.length;
  }

  /** How many more tokens the model's positions allow the row furthest along. */
  get room(): number {
    return this.model.config.maxLength - Math.max(0, ...this.fed);
  }

  /** How many more tokens the model's positions allow `row`. */
  roomOf(row: number): number {
    return this.model.config.maxLength - this.fed[row]!;
  }

  /** The sources encoded once: one graph call on the native backend, else TensorFlow.js ops. */
  private encode(rows: readonly (readonly number[])[]): Memory<Tf.Tensor> {
    const { tf, model } = this;
    const length = Math.max(1, ...rows.map((s) => s.length));
    const ids = new Int32Array(rows.length * length).fill(this.padId);
    const mask = new Float32Array(rows.length * length);
    rows.forEach((source, r) => {
      ids.set(source, r * length);
      mask.fill(1, r * length, r * length + source.length);
    });
    return tf.tidy(() => {
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

  /** Feeds one token per row (a row's first: the start token) and returns the next-token logits [rows, vocabulary]. */
  step(tokens: readonly number[]): Tf.Tensor2D {
    const { tf, model } = this;
    if (this.room <= 0) throw new RangeError(`the model has ${model.config.maxLength} positions; all are used`);
    const rows = this.rows;
    const next = tf.tensor2d(Int32Array.from(tokens), [rows, 1], 'int32');
    if (this.useCache) {
      const keys = this.slots + 1;
      const bias = new Float32Array(rows * keys);
      this.firstSlot.forEach((first, r) => bias.fill(HIDDEN_KEY, r * keys, r * keys + first));
      const feeds = {
        ids: next,
        positionIds: tf.tensor2d(Int32Array.from(this.fed), [rows, 1], 'int32'),
        selfBias: tf.tensor4d(bias, [rows, 1, 1, keys]),
      };
      const { logits, cache } = this.run(feeds, this.cache);
      this.replaceCache(cache);
      tf.dispose(Object.values(feeds));
      this.fed = this.fed.map((n) => n + 1);
      this.slots++;
      return logits;
    }
    const prefix = this.prefix ? tf.concat([this.prefix, next], 1) : next;
    if (this.prefix) {
      this.prefix.dispose();
      next.dispose();
    }
    this.prefix = prefix;
    const length = this.fed[0]! + 1;
    const positions = Int32Array.from({ length: rows * length }, (_, i) => i % length);
    const feeds = {
      ids: prefix,
      positionIds: tf.tensor2d(positions, [rows, length], 'int32'),
      selfBias: tf.tidy(() => tf.reshape<Tf.Rank.R4>(model.causalBias(length), [1, 1, length, length])),
    };
    const { logits, cache } = this.run(feeds, undefined);
    tf.dispose([feeds.positionIds, feeds.selfBias, ...cache.keys, ...cache.values]);
    this.fed = this.fed.map((n) => n + 1);
    return logits;
  }

  /**
   * New rows decoding `sources` from their start token, after the rows there are (a cached
   * decoder only). Their source is encoded now; the cache slots already filled are hidden from them.
   */
  join(sources: readonly (readonly number[])[]): void {
    const { tf } = this;
    if (!this.useCache) throw new Error('only a decoder with a key/value cache takes new rows');
    const added = this.encode(sources);
    const old = this.memory;
    this.memory = tf.tidy(() => {
      const length = Math.max(old.bias.shape[3]!, added.bias.shape[3]!);
      // Sources of other lengths are padded at the end: keys and values with zeros, hidden by the bias.
      const pad = (x: Tf.Tensor, axis: number, value: number) => {
        if (x.shape[axis] === length) return x;
        const widths = x.shape.map((_, a) => [0, a === axis ? length - x.shape[axis]! : 0] as [number, number]);
        return tf.pad(x, widths, value);
      };
      const both = (a: Tf.Tensor, b: Tf.Tensor, axis: number, value: number) =>
        tf.concat([pad(a, axis, value), pad(b, axis, value)], 0);
      return {
        keys: old.keys.map((k, l) => both(k, added.keys[l]!, 2, 0)),
        values: old.values.map((v, l) => both(v, added.values[l]!, 2, 0)),
        bias: both(old.bias, added.bias, 3, HIDDEN_KEY),
      };
    });
    disposeMemory(tf, old);
    disposeMemory(tf, added);
    if (this.cache) {
      const { keys, values } = this.cache;
      const grow = (x: Tf.Tensor) =>
        tf.pad(
          x,
          x.shape.map((_, a) => [0, a === 0 ? sources.length : 0]),
        );
      this.replaceCache({ keys: keys.map(grow), values: values.map(grow) });
    }
    this.fed.push(...sources.map(() => 0));
    this.firstSlot.push(...sources.map(() => this.slots));
  }

  /** Only `rows` (in that order) go on decoding, each with its own source; cache slots no row owns any more are dropped. */
  keep(rows: readonly number[]): void {
    const { tf } = this;
    const old = this.memory;
    this.memory = tf.tidy(() => {
      const indices = tf.tensor1d(Int32Array.from(rows), 'int32');
      return {
        keys: old.keys.map((k) => tf.gather(k, indices)),
        values: old.values.map((v) => tf.gather(v, indices)),
        bias: tf.gather(old.bias, indices),
      };
    });
    disposeMemory(tf, old);
    this.reorder(rows);
    const unowned = Math.min(...this.firstSlot);
    if (!this.cache || unowned === 0 || rows.length === 0) return;
    const { keys, values } = this.cache;
    const drop = (x: Tf.Tensor) => tf.slice(x, [0, 0, unowned, 0], [-1, -1, -1, -1]);
    this.replaceCache({ keys: keys.map(drop), values: values.map(drop) });
    this.firstSlot = this.firstSlot.map((first) => first - unowned);
    this.slots -= unowned;
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
    this.fed = rows.map((r) => this.fed[r]!);
    this.firstSlot = rows.map((r) => this.firstSlot[r]!);
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
        return runDecoderStepGraph(tf, model, { ...feeds, cache: cache ?? empty!, memory: this.memory });
      } finally {
        if (empty) tf.dispose([...empty.keys, ...empty.values]);
      }
    }
    return tf.tidy(() => {
      const [rows, length] = feeds.ids.shape;
      const positions = tf.gather(model.positionTable, feeds.positionIds);
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
    disposeMemory(this.tf, this.memory);
    if (this.cache) this.tf.dispose([...this.cache.keys, ...this.cache.values]);
    this.prefix?.dispose();
  }
}

function disposeMemory(tf: typeof Tf, memory: Memory<Tf.Tensor>): void {
  tf.dispose([...memory.keys, ...memory.values, memory.bias]);
}
