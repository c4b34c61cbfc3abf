import { attentionRows, HIDDEN_KEY, paddingBias, queryScale } from './attention';
import { encoderBlocks, normalizedRows, type EncoderInputs, type ParameterLookup } from './encoder';
import type { EncoderConfig } from './encoder-config';
import { LAYER_NORM_EPSILON } from './layer-norm';
import type { ModelOps } from './model-ops';

/** What the decoder reads of one pass: target-side token ids [batch, length], their positions and attention bias. */
export interface DecoderInputs<T> {
  readonly ids: T;
  /**
   * Encodings of the target tokens' positions, [length, hidden] for every row alike or [batch,
   * length, hidden] (sinusoidal; learned positions are read from the parameters).
   */
  readonly positions: T;
  /**
   * Each token's position [batch, length] int32, when rows are at different positions (rows that
   * joined a decoding run later): learned positions are looked up by them. Without them the
   * tokens follow the cached ones in every row.
   */
  readonly positionIds?: T;
  /**
   * Added to the self-attention scores, [length, keys] or per row [batch, 1, length, keys]: the
   * causal mask (causalValues), or the cache slots a row does not own. Absent when every key may
   * be seen.
   */
  readonly selfBias?: T;
}

/** The encoder's output as the decoder reads it: each block's cross-attention keys and values and the source padding bias. */
export interface Memory<T> {
  /** Per decoder block: keys and values [batch, heads, source length, head size]. */
  readonly keys: readonly T[];
  readonly values: readonly T[];
  /** [batch, 1, 1, source length]. */
  readonly bias: T;
}

/** Per decoder block: the self-attention keys and values of the tokens decoded so far [batch, heads, tokens, head size]. */
export interface DecoderCache<T> {
  readonly keys: readonly T[];
  readonly values: readonly T[];
}

/**
 * Encodes the source and projects it, once, into every decoder block's cross-attention keys and
 * values: what each decoding step attends to.
 */
export function encodeMemory<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  source: EncoderInputs<T>,
): Memory<T> {
  const rows = normalizedRows(o, p, config, encoderBlocks(o, p, config, source));
  const batch = o.dim(source.ids, 0);
  const length = o.dim(source.ids, 1);
  const heads = config.heads;
  const dh = config.hidden / heads;
  const keys: T[] = [];
  const values: T[] = [];
  for (let l = 0; l < config.decoderLayers!; l++) {
    const kv = o.linear(rows, p(`decoder/layer${l}/cross/kv/kernel`), p(`decoder/layer${l}/cross/kv/bias`));
    const [k, v] = o.unstack(o.transpose(o.reshape(kv, [batch, length, 2, heads, dh]), [2, 0, 3, 1, 4])) as [T, T];
    keys.push(k);
    values.push(v);
  }
  return { keys, values, bias: paddingBias(o, source.mask) };
}

/**
 * The transformer decoder (pre-norm, as Pipewright's own encoder): the shared token embeddings
 * scaled by √hidden plus positions, then blocks of masked self-attention, cross-attention over the
 * encoder's memory and a feed-forward, each with dropout and a residual connection, and a final
 * norm. With a cache, the new tokens' keys and values are appended to it and the new cache is
 * returned with the hidden rows [batch·length, hidden].
 */
export function decoderBlocks<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  inputs: DecoderInputs<T>,
  memory: Memory<T>,
  cache?: DecoderCache<T>,
): { rows: T; cache: DecoderCache<T> } {
  const d = config.hidden;
  const heads = config.heads;
  const dh = d / heads;
  const epsilon = config.layerNormEpsilon ?? LAYER_NORM_EPSILON;
  const batch = o.dim(inputs.ids, 0);
  const length = o.dim(inputs.ids, 1);
  const positions =
    config.positional !== 'learned'
      ? inputs.positions
      : inputs.positionIds
        ? o.embedding(p('embedding/positions'), inputs.positionIds)
        : // The new tokens follow the cached ones.
          o.slice(p('embedding/positions'), [cache ? o.dim(cache.keys[0]!, 2) : 0, 0], [length, d]);
  const tokens = o.embedding(p('embedding/tokens'), inputs.ids);
  let x = o.dropout(o.reshape(o.add(o.mul(tokens, o.scalar(Math.sqrt(d))), positions), [-1, d]), config.dropout);
  const scale = queryScale(o, d, heads);
  // One transpose takes the fused projection to [q|k|v, batch, heads, length, head size].
  const split = (qkv: T) => o.transpose(o.reshape(qkv, [batch, length, 3, heads, dh]), [2, 0, 3, 1, 4]);
  const keys: T[] = [];
  const values: T[] = [];
  for (let l = 0; l < config.decoderLayers!; l++) {
    const name = (part: string) => `decoder/layer${l}/${part}`;
    const norm = (n: number) => [p(name(`norm${n}/gamma`)), p(name(`norm${n}/beta`))] as const;
    const dense = (h: T, part: string) => o.linear(h, p(name(`${part}/kernel`)), p(name(`${part}/bias`)));

    // x normalized by norm n and projected by `part`, its output columns times `columnScale`.
    const scaledFromNorm = (n: number, part: string, columnScale: T) =>
      o.scaledProjection(
        (kernel, bias) => o.normalizedLinear(x, ...norm(n), kernel, bias, epsilon),
        p(name(`${part}/kernel`)),
        p(name(`${part}/bias`)),
        columnScale,
      );

    const qkv = scaledFromNorm(1, 'self/qkv', scale);
    const [q, newK, newV] = o.unstack(split(qkv)) as [T, T, T];
    const k = cache ? o.concat([cache.keys[l]!, newK], 2) : newK;
    const v = cache ? o.concat([cache.values[l]!, newV], 2) : newV;
    keys.push(k);
    values.push(v);
    const selfContext = attentionRows(o, q, k, v, inputs.selfBias, config.dropout, d);
    x = o.add(x, o.dropout(dense(selfContext, 'self/o'), config.dropout));

    const crossQ = scaledFromNorm(2, 'cross/q', o.scalar(1 / Math.sqrt(dh)));
    const cq = o.transpose(o.reshape(crossQ, [batch, length, heads, dh]), [0, 2, 1, 3]);
    const crossContext = attentionRows(o, cq, memory.keys[l]!, memory.values[l]!, memory.bias, config.dropout, d);
    x = o.add(x, o.dropout(dense(crossContext, 'cross/o'), config.dropout));

    const hidden = o.normalizedLinear(x, ...norm(3), p(name('ffn/in/kernel')), p(name('ffn/in/bias')), epsilon);
    const activated = config.activation === 'relu' ? o.relu(hidden) : o.gelu(hidden);
    x = o.add(x, o.dropout(dense(activated, 'ffn/out'), config.dropout));
  }
  const rows = o.layerNorm(x, p('decoder/final_norm/gamma'), p('decoder/final_norm/beta'), epsilon);
  return { rows, cache: { keys, values } };
}

/**
 * Next-token logits [rows, vocabulary] from decoder rows: the tied (transposed token embedding) or
 * own output projection. `tokensTransposed`, for a tied model, is the token embeddings already
 * transposed [hidden, vocabulary] (EncoderModel.tokensTransposed), as decoding steps read them.
 */
export function outputLogits<T>(
  o: ModelOps<T>,
  p: ParameterLookup<T>,
  config: EncoderConfig,
  rows: T,
  tokensTransposed?: T,
): T {
  if (!config.tiedOutput) return o.linear(rows, p('head/kernel'), p('head/bias'));
  const product = tokensTransposed ? o.matMul(rows, tokensTransposed) : o.matMul(rows, p('embedding/tokens'), true);
  return o.add(product, p('head/bias'));
}

/**
 * The decoder's self-attention bias for `length` target tokens, [length, length] row-major: 0 on
 * and below the diagonal, −10⁹ above it, so a token sees itself and the tokens before it. Targets
 * are padded at the end, so no real token sees padding and padding needs no bias of its own.
 */
export function causalValues(length: number): Float32Array {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) values[i * length + j] = HIDDEN_KEY;
  return values;
}
