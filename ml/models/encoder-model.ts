import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runInferenceGraph } from '../graph/graph-runner';
import { EagerOps, type PassOptions } from './eager-ops';
import { hasPooler, type EncoderHead } from './encoder';
import { checkEncoderConfig, EncoderConfigError, type EncoderConfig } from './encoder-config';
import { causalValues } from './decoder';

type Tensor = Tf.Tensor;

/** Inputs besides the token ids and mask: token types (pairs of texts), the decoder's ids (an encoder-decoder model's targets). */
export interface ExtraInputs {
  readonly types?: Tf.Tensor2D;
  readonly decoderIds?: Tf.Tensor2D;
}

/** The model's variables by name; a checkpoint saves exactly these. */
export type Parameters = Map<string, Tf.Variable>;

/**
 * A transformer encoder (ml/models/encoder.ts) with the head a task puts on it: its parameters as
 * TensorFlow.js variables, and its forward pass run eagerly or as a graph. Every head reads the
 * same parameters: a [hidden, classes] kernel over the encoder's normalized output (and the `bert`
 * layout's pooler, which only sequence classification reads).
 */
export class EncoderModel {
  private static instances = 0;
  readonly params: Parameters = new Map();
  private readonly positions: Tensor | undefined;
  /** The token embeddings transposed, and the embeddings' data they were made from. */
  private transposed: { readonly of: object; readonly table: Tf.Tensor2D } | undefined;

  /**
   * `seed` draws the initial weights; `undefined` leaves them zero, for a model whose weights are
   * loaded from a checkpoint next (drawing millions of random numbers takes seconds).
   */
  constructor(
    private readonly tf: typeof Tf,
    readonly config: EncoderConfig,
    readonly head: EncoderHead,
    seed: number | undefined,
  ) {
    checkEncoderConfig(config);
    const { hidden: d, ffn, vocabSize, maxLength, layers, classes } = config;
    if (config.tiedOutput && classes !== vocabSize)
      throw new EncoderConfigError(`a tied output projection scores the ${vocabSize} tokens, not ${classes} classes`);
    // TensorFlow.js variable names are process-wide; the map keys, which checkpoints use, are not.
    const prefix = `encoder${++EncoderModel.instances}/`;
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
    const bert = config.layout === 'bert';
    normal('embedding/tokens', [vocabSize, d]);
    if (config.positional === 'learned') {
      normal('embedding/positions', [maxLength, d]);
    } else {
      this.positions = sinusoidal(tf, maxLength, d);
    }
    if (bert) {
      normal('embedding/token_types', [config.tokenTypes!, d]);
      constant('embedding/norm/gamma', [d], 1);
      constant('embedding/norm/beta', [d], 0);
    }
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
    for (let l = 0; l < (config.decoderLayers ?? 0); l++) {
      const name = (part: string) => `decoder/layer${l}/${part}`;
      for (const [part, width] of [
        ['self/qkv', 3 * d],
        ['self/o', d],
        ['cross/q', d],
        ['cross/kv', 2 * d],
        ['cross/o', d],
        ['ffn/in', ffn],
      ] as const) {
        glorot(name(`${part}/kernel`), [d, width]);
        constant(name(`${part}/bias`), [width], 0);
      }
      glorot(name('ffn/out/kernel'), [ffn, d]);
      constant(name('ffn/out/bias'), [d], 0);
      for (const ln of ['norm1', 'norm2', 'norm3']) {
        constant(name(`${ln}/gamma`), [d], 1);
        constant(name(`${ln}/beta`), [d], 0);
      }
    }
    if (config.decoderLayers !== undefined) {
      constant('decoder/final_norm/gamma', [d], 1);
      constant('decoder/final_norm/beta', [d], 0);
    }
    if (hasPooler(config, head)) {
      glorot('pooler/kernel', [d, d]);
      constant('pooler/bias', [d], 0);
    }
    if (!bert) {
      constant('final_norm/gamma', [d], 1);
      constant('final_norm/beta', [d], 0);
    }
    // A tied output projection is the token embedding itself, transposed.
    if (!config.tiedOutput) glorot('head/kernel', [d, classes]);
    constant('head/bias', [classes], 0);
  }

  /**
   * The head's logits ([batch, classes] for a sequence, [batch·length, classes] per token or per
   * target token). Inference on the native backend runs as one TensorFlow graph (ml/graph/), which
   * yields no gradients; training passes run as TensorFlow.js ops.
   */
  logits(ids: Tf.Tensor2D, mask: Tf.Tensor2D, options: PassOptions, extra: ExtraInputs = {}): Tf.Tensor2D {
    const { tf } = this;
    if (!options.training && graphsAvailable(tf)) return runInferenceGraph(tf, this, { ids, mask, ...extra });
    return tf.tidy(() => {
      const { types, decoderIds } = extra;
      const positions = this.positionEncodings(ids.shape[1]);
      return this.head.logits(new EagerOps(tf, options), this.lookup, this.config, {
        ids,
        mask,
        ...(types && { types }),
        positions,
        ...(decoderIds && {
          decoder: {
            ids: decoderIds,
            positions: this.positionEncodings(decoderIds.shape[1]),
            selfBias: this.causalBias(decoderIds.shape[1]),
          },
        }),
      }) as Tf.Tensor2D;
    });
  }

  /** The parameters by name, as the model's functions (ml/models/) read them. */
  readonly lookup = (name: string): Tf.Variable => this.param(name);

  /** The decoder's causal self-attention bias for `length` target tokens, [length, length]. */
  causalBias(length: number): Tf.Tensor2D {
    return this.tf.tensor2d(causalValues(length), [length, length]);
  }

  private param(name: string): Tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`the model has no parameter ${name}`);
    return v;
  }

  /** Every position's encoding [maxLength, hidden]: the fixed sinusoidal table, or the learned parameter. */
  get positionTable(): Tf.Tensor2D {
    return (
      this.config.positional === 'learned' ? this.params.get('embedding/positions')! : this.positions!
    ) as Tf.Tensor2D;
  }

  /**
   * The token embeddings transposed, [hidden, vocabulary]: the tied output projection as a
   * decoding step multiplies by it. Made once, and again after the embeddings are assigned.
   */
  get tokensTransposed(): Tf.Tensor2D {
    const tokens = this.param('embedding/tokens');
    if (this.transposed?.of !== tokens.dataId) {
      this.transposed?.table.dispose();
      this.transposed = { of: tokens.dataId, table: this.tf.keep(this.tf.transpose(tokens as Tf.Tensor2D)) };
    }
    return this.transposed.table;
  }

  /** The position encodings added to `length` token embeddings from position `offset` on, [length, hidden]. */
  positionEncodings(length: number, offset = 0): Tf.Tensor2D {
    return this.positionTable.slice([offset, 0], [length, this.config.hidden]);
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
    this.transposed?.table.dispose();
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
