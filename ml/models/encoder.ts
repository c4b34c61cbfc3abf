import type { EncoderConfig } from './encoder-config';
import type { ModelOps } from './model-ops';

/** A model's parameters by name, as the ops at hand see them. */
export type ParameterLookup<T> = (name: string) => T;

/** The model's inputs for a batch: token ids [batch, length] (int32) and a 0/1 padding mask [batch, length]. */
export interface EncoderInputs<T> {
  readonly ids: T;
  readonly mask: T;
  /** The sinusoidal position encodings of the batch's length, [length, hidden]; unused with learned positions. */
  readonly positions: T;
}

/**
 * The transformer encoder, written once for every way it runs: token embedding scaled by √hidden
 * plus position encodings, dropout, then pre-norm blocks of multi-head self-attention (padding
 * masked) and a position-wise feed-forward, each with dropout and a residual connection. Returns
 * the residual stream after the last block as rows [batch·length, hidden], before the final norm.
 */
export function encoderBlocks<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): T {
  const { ids, mask } = inputs;
  const d = config.hidden;
  const heads = config.heads;
  const dh = d / heads;
  const batch = o.dim(ids, 0);
  const length = o.dim(ids, 1);
  const positions =
    config.positional === 'learned' ? o.slice(p('embedding/positions'), [0, 0], [length, d]) : inputs.positions;
  const embedded = o.add(o.mul(o.embedding(p('embedding/tokens'), ids), o.scalar(Math.sqrt(d))), positions);
  // The residual stream is kept as rows [batch·length, hidden], the shape the projections take.
  let x = o.dropout(o.reshape(embedded, [-1, d]), config.dropout);
  // Padding positions get a large negative score before the softmax, so no token attends to them.
  const maskBias = o.mul(o.sub(o.scalar(1), o.reshape(mask, [batch, 1, 1, length])), o.scalar(-1e9));
  // Queries come out of the q|k|v projection already divided by √(head size), as the scores need.
  const queryScale = o.constant(
    Array.from({ length: 3 * d }, (_, i) => (i < d ? 1 / Math.sqrt(dh) : 1)),
    [3 * d],
  );
  const dense = (h: T, name: string) => o.linear(h, p(`${name}/kernel`), p(`${name}/bias`));
  for (let l = 0; l < config.layers; l++) {
    const norm = (n: number) => [p(`layer${l}/norm${n}/gamma`), p(`layer${l}/norm${n}/beta`)] as const;
    const qkv = o.normalizedLinear(
      x,
      ...norm(1),
      o.mul(p(`layer${l}/attention/qkv/kernel`), queryScale),
      o.mul(p(`layer${l}/attention/qkv/bias`), queryScale),
    );
    // One transpose takes the fused projection to [q|k|v, batch, heads, length, head size].
    const [q, k, v] = o.unstack(o.transpose(o.reshape(qkv, [batch, length, 3, heads, dh]), [2, 0, 3, 1, 4])) as [
      T,
      T,
      T,
    ];
    const probs = o.dropout(o.softmax(o.add(o.matMul(q, k, true), maskBias)), config.dropout);
    const context = o.reshape(o.transpose(o.matMul(probs, v), [0, 2, 1, 3]), [-1, d]);
    x = o.add(x, o.dropout(dense(context, `layer${l}/attention/o`), config.dropout));
    const hidden = o.normalizedLinear(x, ...norm(2), p(`layer${l}/ffn/in/kernel`), p(`layer${l}/ffn/in/bias`));
    x = o.add(
      x,
      o.dropout(
        dense(config.activation === 'gelu' ? o.gelu(hidden) : o.relu(hidden), `layer${l}/ffn/out`),
        config.dropout,
      ),
    );
  }
  return x;
}

/**
 * What a task puts on top of the encoder: a name (graphs are cached by it) and the function from
 * the model's inputs to its logits, written once against ModelOps like the encoder itself.
 */
export interface EncoderHead {
  readonly name: string;
  logits<T>(o: ModelOps<T>, p: ParameterLookup<T>, config: EncoderConfig, inputs: EncoderInputs<T>): T;
}

/**
 * Class logits [batch, classes]: the encoder, the final norm and a linear head over the first
 * token's vector or the mean over real tokens. First-token pooling reads one row per sequence, so
 * only those rows get the final norm.
 */
export function classifierLogits<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): T {
  const residual = encoderBlocks(o, p, config, inputs);
  const d = config.hidden;
  const { mask } = inputs;
  const sequences = (rows: T) => o.reshape(rows, [o.dim(mask, 0), o.dim(mask, 1), d]);
  if (config.pooling === 'first') {
    const first = o.reshape(o.slice(sequences(residual), [0, 0, 0], [-1, 1, -1]), [-1, d]);
    return o.normalizedLinear(first, p('final_norm/gamma'), p('final_norm/beta'), p('head/kernel'), p('head/bias'));
  }
  const hidden = sequences(o.layerNorm(residual, p('final_norm/gamma'), p('final_norm/beta')));
  const column = o.reshape(mask, [o.dim(mask, 0), o.dim(mask, 1), 1]);
  const pooled = o.div(o.sum(o.mul(hidden, column), [1], false), o.maximum(o.sum(mask, [1], true), o.scalar(1)));
  return o.linear(pooled, p('head/kernel'), p('head/bias'));
}

/** Per-token logits [batch·length, classes]: the encoder, the final norm and a linear head on every row. */
export function tokenLogits<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: EncoderInputs<T>,
): T {
  const residual = encoderBlocks(o, p, config, inputs);
  return o.normalizedLinear(residual, p('final_norm/gamma'), p('final_norm/beta'), p('head/kernel'), p('head/bias'));
}
