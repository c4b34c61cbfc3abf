import type { Size } from '../graph/sizes';
import { attentionRows, paddingBias, queryScale } from './attention';
import type { DecoderInputs } from './decoder';
import type { EncoderConfig } from './encoder-config';
import { LAYER_NORM_EPSILON } from './layer-norm';
import type { ModelOps } from './model-ops';

/** A model's parameters by name, as the ops at hand see them. */
export type ParameterLookup<T> = (name: string) => T;

/** The model's inputs for a batch: token ids [batch, length] (int32) and a 0/1 padding mask [batch, length]. */
export interface EncoderInputs<T> {
  readonly ids: T;
  readonly mask: T;
  /**
   * Token type (segment) ids [batch, length] int32, for the `bert` layout: 0 for the first text of
   * a pair, 1 for the second (a question and its context); absent, every token is of type 0.
   */
  readonly types?: T;
  /** The sinusoidal position encodings of the batch's length, [length, hidden]; unused with learned positions. */
  readonly positions: T;
  /** The target side of an encoder-decoder model (teacher forcing); the ids above are its source. */
  readonly decoder?: DecoderInputs<T>;
}

/** The variance epsilon of the model's layer norms. */
function epsilonOf(config: EncoderConfig): number {
  return config.layerNormEpsilon ?? LAYER_NORM_EPSILON;
}

/** The model's hidden states: rows [batch·length, hidden], and whether they still need the final norm. */
export interface EncoderOutput<T> {
  readonly rows: T;
  /** True for the pre-norm layout, whose residual stream gets `final_norm` in the head. */
  readonly needsFinalNorm: boolean;
}

/**
 * The transformer encoder, written once for every way it runs and for both layouts (see
 * EncoderLayout): embeddings, dropout, then blocks of multi-head self-attention (padding masked)
 * and a position-wise feed-forward, each with dropout and a residual connection, the norm before
 * each sub-layer (`pre_norm`) or after its residual sum (`bert`).
 */
export function encoderBlocks<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): EncoderOutput<T> {
  const { ids, mask } = inputs;
  const d = config.hidden;
  const bert = config.layout === 'bert';
  const epsilon = epsilonOf(config);
  const batch = o.dim(ids, 0);
  const length = o.dim(ids, 1);
  const positions =
    config.positional === 'learned' ? o.slice(p('embedding/positions'), [0, 0], [length, d]) : inputs.positions;
  const tokens = o.embedding(p('embedding/tokens'), ids);
  // The residual stream is kept as rows [batch·length, hidden], the shape the projections take.
  // BERT adds each token's type embedding (type 0 for all when there is one segment) and
  // normalizes the sum.
  const types = () =>
    inputs.types
      ? o.embedding(p('embedding/token_types'), inputs.types)
      : o.slice(p('embedding/token_types'), [0, 0], [1, d]);
  const embedded = bert
    ? o.layerNorm(
        o.reshape(o.add(o.add(tokens, positions), types()), [-1, d]),
        p('embedding/norm/gamma'),
        p('embedding/norm/beta'),
        epsilon,
      )
    : o.reshape(o.add(o.mul(tokens, o.scalar(Math.sqrt(d))), positions), [-1, d]);
  let x = o.dropout(embedded, config.dropout);
  const attention = selfAttention(o, p, config, mask, batch, length);
  const dense = (h: T, name: string) => o.linear(h, p(`${name}/kernel`), p(`${name}/bias`));
  const activate = (h: T) =>
    config.activation === 'gelu' ? o.gelu(h) : config.activation === 'gelu_exact' ? o.geluExact(h) : o.relu(h);
  for (let l = 0; l < config.layers; l++) {
    const norm = (n: number) => [p(`layer${l}/norm${n}/gamma`), p(`layer${l}/norm${n}/beta`)] as const;
    const ffnIn = [p(`layer${l}/ffn/in/kernel`), p(`layer${l}/ffn/in/bias`)] as const;
    if (bert) {
      x = o.layerNorm(o.add(x, o.dropout(attention(l, x, undefined), config.dropout)), ...norm(1), epsilon);
      const hidden = activate(o.linear(x, ...ffnIn));
      x = o.layerNorm(o.add(x, o.dropout(dense(hidden, `layer${l}/ffn/out`), config.dropout)), ...norm(2), epsilon);
    } else {
      x = o.add(x, o.dropout(attention(l, x, norm(1)), config.dropout));
      const hidden = o.normalizedLinear(x, ...norm(2), ...ffnIn, epsilon);
      x = o.add(x, o.dropout(dense(activate(hidden), `layer${l}/ffn/out`), config.dropout));
    }
  }
  return { rows: x, needsFinalNorm: !bert };
}

/**
 * Block `l`'s multi-head self-attention over rows x, through its output projection; `norm` (gamma,
 * beta) normalizes x first (pre-norm). Padding positions get a large negative score before the
 * softmax, so no token attends to them.
 */
function selfAttention<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  mask: T,
  batch: Size,
  length: Size,
): (l: number, x: T, norm: readonly [T, T] | undefined) => T {
  const d = config.hidden;
  const heads = config.heads;
  const dh = d / heads;
  const maskBias = paddingBias(o, mask);
  // Queries come out of the q|k|v projection already divided by √(head size), as the scores need.
  const scale = queryScale(o, d, heads);
  return (l, x, norm) => {
    const project = (kernel: T, bias: T) =>
      norm ? o.normalizedLinear(x, ...norm, kernel, bias, epsilonOf(config)) : o.linear(x, kernel, bias);
    const qkv = o.scaledProjection(
      project,
      p(`layer${l}/attention/qkv/kernel`),
      p(`layer${l}/attention/qkv/bias`),
      scale,
    );
    // One transpose takes the fused projection to [q|k|v, batch, heads, length, head size].
    const [q, k, v] = o.unstack(o.transpose(o.reshape(qkv, [batch, length, 3, heads, dh]), [2, 0, 3, 1, 4])) as [
      T,
      T,
      T,
    ];
    const context = attentionRows(o, q, k, v, maskBias, config.dropout, d);
    return o.linear(context, p(`layer${l}/attention/o/kernel`), p(`layer${l}/attention/o/bias`));
  };
}

/**
 * What a task puts on top of the encoder: a name (graphs are cached by it) and the function from
 * the model's inputs to its logits, written once against ModelOps like the encoder itself.
 */
export interface EncoderHead {
  readonly name: string;
  /** True when the head reads one vector per sequence: then the `bert` layout's first-token pooler is its. */
  readonly pooled: boolean;
  /**
   * How many classes each row of its logits scores, for a batch of this length: the task's
   * classes (config.classes) unless the head says otherwise, as a span head scoring positions does.
   */
  readonly rowClasses?: (config: EncoderConfig, length: Size) => Size;
  logits<T>(o: ModelOps<T>, p: ParameterLookup<T>, config: EncoderConfig, inputs: EncoderInputs<T>): T;
}

/**
 * Class logits [batch, classes] from the first token's vector or the mean over real tokens. The
 * pre-norm layout puts the final norm and a linear head on it (first-token pooling normalizes only
 * the rows it reads); BERT's first token goes through its tanh pooler and dropout first.
 */
export function classifierLogits<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): T {
  const encoded = encoderBlocks(o, p, config, inputs);
  const d = config.hidden;
  const { mask } = inputs;
  const sequences = (rows: T) => o.reshape(rows, [o.dim(mask, 0), o.dim(mask, 1), d]);
  const head = (x: T) => o.linear(x, p('head/kernel'), p('head/bias'));
  if (config.pooling === 'first') {
    const first = o.reshape(o.slice(sequences(encoded.rows), [0, 0, 0], [-1, 1, -1]), [-1, d]);
    if (hasPooler(config, { pooled: true }))
      return head(o.dropout(o.tanh(o.linear(first, p('pooler/kernel'), p('pooler/bias'))), config.dropout));
    return rowHead(o, p, config, first, true, false);
  }
  const hidden = sequences(normalizedRows(o, p, config, encoded));
  const column = o.reshape(mask, [o.dim(mask, 0), o.dim(mask, 1), 1]);
  const pooled = o.div(o.sum(o.mul(hidden, column), [1], false), o.maximum(o.sum(mask, [1], true), o.scalar(1)));
  // Pipewright's own layout has no dropout before its head; BERT's heads have.
  return head(encoded.needsFinalNorm ? pooled : o.dropout(pooled, config.dropout));
}

/** Per-token logits [batch·length, classes]: a linear head on every row of the normalized hidden states. */
export function tokenLogits<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): T {
  const encoded = encoderBlocks(o, p, config, inputs);
  return rowHead(o, p, config, encoded.rows, encoded.needsFinalNorm, true);
}

/**
 * The linear head on rows of hidden states: in the pre-norm layout fused with the final norm the
 * rows still need; BERT's rows go in as they are, through dropout first where its task model has it.
 */
function rowHead<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  rows: T,
  needsFinalNorm: boolean,
  dropout: boolean,
): T {
  if (!needsFinalNorm)
    return o.linear(dropout ? o.dropout(rows, config.dropout) : rows, p('head/kernel'), p('head/bias'));
  return o.normalizedLinear(
    rows,
    p('final_norm/gamma'),
    p('final_norm/beta'),
    p('head/kernel'),
    p('head/bias'),
    epsilonOf(config),
  );
}

/**
 * Span logits for extractive question answering: each token's start and end score from one
 * linear layer [hidden, 2] on the last hidden states (as Hugging Face's BertForQuestionAnswering
 * has it: no dropout, no mask), laid out as rows [2·batch, length] — per sequence a row of start
 * scores, then a row of end scores — so a softmax over each row picks a position.
 */
export function spanLogits<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): T {
  const encoded = encoderBlocks(o, p, config, inputs);
  const scores = rowHead(o, p, config, encoded.rows, encoded.needsFinalNorm, false);
  const batch = o.dim(inputs.mask, 0);
  const length = o.dim(inputs.mask, 1);
  return o.reshape(o.transpose(o.reshape(scores, [batch, length, 2]), [0, 2, 1]), [-1, length]);
}

/** The last hidden states as a head: what pretrained-checkpoint parity is checked on, rows [batch·length, hidden]. */
export const HIDDEN_STATES: EncoderHead = {
  name: 'hidden-states',
  pooled: false,
  logits: (o, p, config, inputs) => normalizedRows(o, p, config, encoderBlocks(o, p, config, inputs)),
};

/** The encoder's hidden states [batch·length, hidden] as a task head reads them: after the final norm where the layout has one. */
export function normalizedRows<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  encoded: EncoderOutput<T>,
): T {
  if (!encoded.needsFinalNorm) return encoded.rows;
  return o.layerNorm(encoded.rows, p('final_norm/gamma'), p('final_norm/beta'), epsilonOf(config));
}

/** Whether a model of this configuration and head has BERT's pooler: a sequence head over the first token of the `bert` layout. */
export function hasPooler(config: EncoderConfig, head: Pick<EncoderHead, 'pooled'>): boolean {
  return config.layout === 'bert' && config.pooling === 'first' && head.pooled;
}
