import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runInferenceGraph } from '../graph/graph-runner';
import { dropout } from './dropout';
import { embeddingLookup } from './embedding-lookup';
import { checkEncoderConfig, type EncoderConfig } from './encoder-config';
import { gelu } from './gelu';
import { layerNorm, normalizedLinear } from './layer-norm';
import { linear } from './linear';

type Tensor = Tf.Tensor;

/** The model's variables by name; a checkpoint saves exactly these. */
export type Parameters = Map<string, Tf.Variable>;

/** Options of one forward pass. */
export interface ForwardOptions {
  readonly training: boolean;
  /** Seeds this pass's dropout masks, e.g. derived from (seed, step), so training is reproducible. */
  readonly dropoutSeed?: number;
}

/**
 * A transformer encoder with a sequence-classification head, on raw TensorFlow.js ops: token
 * embedding, positional encoding, pre-norm blocks of multi-head self-attention (with padding
 * masks) and a position-wise feed-forward, residual connections, layer norm, dropout, then
 * first-token or mean pooling and a linear head. Other heads can read `encode`'s output.
 */
export class EncoderClassifier {
  private static instances = 0;
  readonly params: Parameters = new Map();
  private readonly positions: Tensor | undefined;
  /** Multiplies the q|k|v projection's columns: 1/√(head size) for the queries, 1 for keys and values. */
  private readonly queryScale: Tensor;

  /**
   * `seed` draws the initial weights; `undefined` leaves them zero, for a model whose weights are
   * loaded from a checkpoint next (drawing millions of random numbers takes seconds).
   */
  constructor(
    private readonly tf: typeof Tf,
    readonly config: EncoderConfig,
    seed: number | undefined,
  ) {
    checkEncoderConfig(config);
    const { hidden: d, ffn, vocabSize, maxLength, layers, classes } = config;
    // TensorFlow.js variable names are process-wide; the map keys, which checkpoints use, are not.
    const prefix = `encoder${++EncoderClassifier.instances}/`;
    const add = (name: string, value: Tensor) => this.params.set(name, tf.variable(value, true, prefix + name));
    let n = 0;
    const drawn = (shape: number[], draw: (seed: number) => Tensor) =>
      seed === undefined ? tf.zeros(shape) : draw(seed + n++);
    const glorot = (name: string, shape: [number, number]) => {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      add(
        name,
        drawn(shape, (s) => tf.randomUniform(shape, -limit, limit, 'float32', s)),
      );
    };
    const normal = (name: string, shape: [number, number]) =>
      add(
        name,
        drawn(shape, (s) => tf.randomNormal(shape, 0, 0.02, 'float32', s)),
      );
    const constant = (name: string, shape: number[], value: number) => add(name, tf.fill(shape, value));
    normal('embedding/tokens', [vocabSize, d]);
    if (config.positional === 'learned') {
      normal('embedding/positions', [maxLength, d]);
    } else {
      this.positions = sinusoidal(tf, maxLength, d);
    }
    const headSize = d / config.heads;
    this.queryScale = tf.tidy(() => tf.concat([tf.fill([d], 1 / Math.sqrt(headSize)), tf.ones([2 * d])]));
    for (let l = 0; l < layers; l++) {
      // Queries, keys and values come from one [hidden, 3·hidden] projection: one matmul instead of three.
      glorot(`layer${l}/attention/qkv/kernel`, [d, 3 * d]);
      constant(`layer${l}/attention/qkv/bias`, [3 * d], 0);
      glorot(`layer${l}/attention/o/kernel`, [d, d]);
      constant(`layer${l}/attention/o/bias`, [d], 0);
      glorot(`layer${l}/ffn/in/kernel`, [d, ffn]);
      constant(`layer${l}/ffn/in/bias`, [ffn], 0);
      glorot(`layer${l}/ffn/out/kernel`, [ffn, d]);
      constant(`layer${l}/ffn/out/bias`, [d], 0);
      for (const ln of ['norm1', 'norm2']) {
        constant(`layer${l}/${ln}/gamma`, [d], 1);
        constant(`layer${l}/${ln}/beta`, [d], 0);
      }
    }
    constant('final_norm/gamma', [d], 1);
    constant('final_norm/beta', [d], 0);
    glorot('head/kernel', [d, classes]);
    constant('head/bias', [classes], 0);
  }

  /** Hidden states [batch, length, hidden] for token ids [batch, length] and a 0/1 padding mask. */
  encode(ids: Tf.Tensor2D, mask: Tf.Tensor2D, options: ForwardOptions): Tf.Tensor3D {
    const p = (name: string) => this.params.get(name)!;
    return layerNorm(
      this.tf,
      this.blocks(ids, mask, options),
      p('final_norm/gamma') as Tf.Tensor1D,
      p('final_norm/beta') as Tf.Tensor1D,
    ) as Tf.Tensor3D;
  }

  /**
   * Class logits [batch, classes]. Inference on the native backend runs as one TensorFlow graph
   * (ml/graph/), which yields no gradients; training passes run as TensorFlow.js ops.
   */
  logits(ids: Tf.Tensor2D, mask: Tf.Tensor2D, options: ForwardOptions): Tf.Tensor2D {
    const { tf } = this;
    if (!options.training && graphsAvailable(tf)) return runInferenceGraph(tf, this, ids, mask);
    const p = (name: string) => this.params.get(name)!;
    const head = (rows: Tf.Tensor2D) => tf.add<Tf.Tensor2D>(tf.matMul(rows, p('head/kernel')), p('head/bias'));
    if (this.config.pooling === 'mean') {
      const hidden = this.encode(ids, mask, options);
      return head(tf.div(tf.sum(tf.mul(hidden, mask.expandDims(2)), 1), tf.maximum(tf.sum(mask, 1, true), 1)));
    }
    // First-token pooling reads one row per sequence: only those rows need the final norm.
    const first = this.blocks(ids, mask, options).slice([0, 0, 0], [-1, 1, -1]).squeeze<Tf.Tensor2D>([1]);
    return normalizedLinear(
      tf,
      first,
      p('final_norm/gamma') as Tf.Tensor1D,
      p('final_norm/beta') as Tf.Tensor1D,
      p('head/kernel') as Tf.Tensor2D,
      p('head/bias') as Tf.Tensor1D,
    );
  }

  /** The residual stream after the last block, before the final norm. */
  private blocks(ids: Tf.Tensor2D, mask: Tf.Tensor2D, options: ForwardOptions): Tf.Tensor3D {
    const { tf, config } = this;
    const [batch, length] = ids.shape;
    const d = config.hidden;
    const p = (name: string) => this.params.get(name)!;
    let dropouts = 0;
    const drop = (x: Tensor) =>
      options.training && config.dropout > 0
        ? dropout(tf, x, config.dropout, [options.dropoutSeed ?? 0, dropouts++])
        : x;
    const positions = this.positionEncodings(length);
    let x = drop(
      tf.add(tf.mul(embeddingLookup(tf, p('embedding/tokens') as Tf.Tensor2D, ids), Math.sqrt(d)), positions),
    ) as Tf.Tensor3D;
    // Padding positions get a large negative score before the softmax, so no token attends to them.
    const maskBias = tf.mul(tf.sub(1, mask.reshape([batch, 1, 1, length])), -1e9);
    const heads = config.heads;
    const dh = d / heads;
    const rows = (h: Tensor) => h.reshape<Tf.Tensor2D>([-1, h.shape[h.shape.length - 1]!]);
    const dense = (h: Tensor, name: string) =>
      linear(tf, rows(h), p(`${name}/kernel`) as Tf.Tensor2D, p(`${name}/bias`) as Tf.Tensor1D);
    // A pre-norm block's layer norm folded into the projection after it; `scale` multiplies its output columns.
    const normDense = (h: Tensor, norm: string, name: string, scale?: Tensor) =>
      normalizedLinear(
        tf,
        rows(h),
        p(`${norm}/gamma`) as Tf.Tensor1D,
        p(`${norm}/beta`) as Tf.Tensor1D,
        (scale ? tf.mul(p(`${name}/kernel`), scale) : p(`${name}/kernel`)) as Tf.Tensor2D,
        (scale ? tf.mul(p(`${name}/bias`), scale) : p(`${name}/bias`)) as Tf.Tensor1D,
      );
    for (let l = 0; l < config.layers; l++) {
      // Queries come out of the projection already divided by √(head size), as the scores need.
      const qkv = normDense(x, `layer${l}/norm1`, `layer${l}/attention/qkv`, this.queryScale);
      // One transpose takes the fused projection to [q|k|v, batch, heads, length, head size].
      const [q, k, v] = tf.unstack(qkv.reshape([batch, length, 3, heads, dh]).transpose([2, 0, 3, 1, 4])) as [
        Tensor,
        Tensor,
        Tensor,
      ];
      const scores = tf.add(tf.matMul(q, k, false, true), maskBias);
      const context = tf
        .matMul(drop(tf.softmax(scores)), v)
        .transpose([0, 2, 1, 3])
        .reshape([batch * length, d]);
      x = tf.add(x, drop(dense(context, `layer${l}/attention/o`).reshape([batch, length, d])));
      const hidden = normDense(x, `layer${l}/norm2`, `layer${l}/ffn/in`);
      const f = dense(config.activation === 'gelu' ? gelu(tf, hidden) : tf.relu(hidden), `layer${l}/ffn/out`);
      x = tf.add(x, drop(f.reshape([batch, length, d])));
    }
    return x;
  }

  /** The position encodings added to the first `length` token embeddings, [length, hidden]. */
  positionEncodings(length: number): Tf.Tensor2D {
    const table = this.config.positional === 'learned' ? this.params.get('embedding/positions')! : this.positions!;
    return table.slice([0, 0], [length, this.config.hidden]) as Tf.Tensor2D;
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    let total = 0;
    for (const v of this.params.values()) total += v.size;
    return total;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.positions?.dispose();
    this.queryScale.dispose();
  }
}

/** The fixed sinusoidal position encodings of the original transformer, [maxLength, hidden]. */
export function sinusoidal(tf: typeof Tf, maxLength: number, hidden: number): Tensor {
  const values = new Float32Array(maxLength * hidden);
  for (let pos = 0; pos < maxLength; pos++) {
    for (let i = 0; i < hidden; i++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(i / 2)) / hidden);
      values[pos * hidden + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return tf.tensor2d(values, [maxLength, hidden]);
}
