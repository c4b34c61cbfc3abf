import { decoderBlocks, encodeMemory, outputLogits } from '../models/decoder';
import type { EncoderConfig } from '../models/encoder-config';
import { GraphBuilder, type Edge } from './graph-def';
import { GraphModelOps } from './graph-model-ops';
import { GraphOps } from './graph-ops';
import { addSizes, subtractSizes, SymbolicSize } from './sizes';

/** A graph of decoding (the encoder's memory, or one step) and the order to feed it in. */
export interface DecoderGraph {
  readonly savedModel: Buffer;
  /** The parameters the graph reads, in feed order. */
  readonly parameters: readonly string[];
  /** Placeholder names in feed order: those parameters, then the graph's other inputs. */
  readonly inputs: readonly string[];
}

/**
 * Parameter placeholders made as the model reads them, so a graph is fed only the parameters its
 * part of the model uses; `names` lists them in the order they were read (the feed order).
 */
function parameterReader(o: GraphOps, params: ReadonlyMap<string, readonly number[]>) {
  const param = new Map<string, Edge>();
  const p = (name: string): Edge => {
    let edge = param.get(name);
    if (!edge) {
      const shape = params.get(name);
      if (!shape) throw new Error(`the model has no parameter ${name}`);
      edge = o.placeholder(`param/${name}`, 'float', shape);
      param.set(name, edge);
    }
    return edge;
  };
  return { p, names: () => [...param.keys()] };
}

/**
 * What an encoder-decoder model's decoding reads of the source, as one TensorFlow graph for any
 * batch size and source length: the source encoded once and projected into every decoder block's
 * cross-attention keys and values (encodeMemory). Inputs: the encoder's parameters, `ids`
 * [batch, length] int32, `mask` [batch, length] 0/1 and `position_table` [positions, hidden]
 * (the model's whole table; the graph reads the first `length` rows). Outputs:
 * `memory/keys/<l>`, `memory/values/<l>` [batch, heads, length, head size] and `memory_bias`
 * [batch, 1, 1, length], the decoding-step graph's memory inputs of the same names. `small`
 * builds it for calls of few attention scores (GraphModelOps' smallProducts), as `infer-small`.
 */
export function buildMemoryGraph(
  config: EncoderConfig,
  params: ReadonlyMap<string, readonly number[]>,
  small: boolean,
): DecoderGraph {
  const layers = config.decoderLayers;
  if (layers === undefined) throw new TypeError('the model has no decoder');
  const o = new GraphOps(new GraphBuilder());
  const batch = SymbolicSize.named('batch');
  const length = SymbolicSize.named('length');
  const { p, names } = parameterReader(o, params);
  const ids = o.placeholder('ids', 'int32', [batch, length]);
  const mask = o.placeholder('mask', 'float', [batch, length]);
  const table = o.placeholder('position_table', 'float', [SymbolicSize.named('positions'), config.hidden]);
  const positions = o.slice(table, [0, 0], [length, config.hidden]);
  const memory = encodeMemory(new GraphModelOps(o, undefined, small), p, config, { ids, mask, positions });
  [...Array(layers).keys()].forEach((l) => {
    o.identity(memory.keys[l]!, `memory/keys/${l}`);
    o.identity(memory.values[l]!, `memory/values/${l}`);
  });
  o.identity(memory.bias, 'memory_bias');
  const parameters = names();
  return {
    savedModel: o.g.toSavedModel(),
    parameters,
    inputs: [...parameters.map((name) => `param/${name}`), 'ids', 'mask', 'position_table'],
  };
}

/**
 * One step of an encoder-decoder model's autoregressive decoding as one TensorFlow graph, for any
 * batch size, number of new tokens, cache slots and source length. It feeds `decoder_ids`
 * [batch, tokens] at `position_ids` [batch, tokens] (each row its own), attending to the cache
 * `cache/keys/<l>`, `cache/values/<l>` [batch, heads, past, head size] and the encoder's memory
 * `memory/keys/<l>`, `memory/values/<l>` [batch, heads, source length, head size],
 * `memory_bias` [batch, 1, 1, source length], with `decoder_bias` [batch or 1, 1, tokens, past +
 * tokens] added to the self-attention scores (the causal mask; the slots a row does not own);
 * the positions' encodings are looked up in `position_table` [positions, hidden], the model's
 * whole table (fed as it is: sinusoidal, or the learned parameter). A model with a tied output
 * projection is fed `tokens_transposed` [hidden, vocabulary] (EncoderModel.tokensTransposed).
 * Outputs: the next-token `logits` [batch, vocabulary] of the last new token, and the cache with
 * the new tokens' keys and values appended. One new token on a cache is a cached step; the whole
 * prefix on an empty cache (past 0) with the causal bias is the uncached one. Output names:
 * `logits`, and per block `keys/<l>`, `values/<l>`.
 */
export function buildDecoderStepGraph(
  config: EncoderConfig,
  params: ReadonlyMap<string, readonly number[]>,
): DecoderGraph {
  const layers = config.decoderLayers;
  if (layers === undefined) throw new TypeError('the model has no decoder');
  const o = new GraphOps(new GraphBuilder());
  const batch = SymbolicSize.named('batch');
  const tokens = SymbolicSize.named('tokens');
  const past = SymbolicSize.named('past');
  const source = SymbolicSize.named('source_length');
  const dh = config.hidden / config.heads;
  // Parameters become placeholders as the decoder reads them: the encoder's are not fed at all.
  const { p, names } = parameterReader(o, params);
  const ids = o.placeholder('decoder_ids', 'int32', [batch, tokens]);
  const positionIds = o.placeholder('position_ids', 'int32', [batch, tokens]);
  const table = o.placeholder('position_table', 'float', [SymbolicSize.named('positions'), config.hidden]);
  const selfBias = o.placeholder('decoder_bias', 'float', [batch, 1, tokens, addSizes(past, tokens)]);
  const blocks = [...Array(layers).keys()];
  const cacheShape = [batch, config.heads, past, dh];
  const cache = {
    keys: blocks.map((l) => o.placeholder(`cache/keys/${l}`, 'float', cacheShape)),
    values: blocks.map((l) => o.placeholder(`cache/values/${l}`, 'float', cacheShape)),
  };
  const memoryShape = [batch, config.heads, source, dh];
  const memory = {
    keys: blocks.map((l) => o.placeholder(`memory/keys/${l}`, 'float', memoryShape)),
    values: blocks.map((l) => o.placeholder(`memory/values/${l}`, 'float', memoryShape)),
    bias: o.placeholder('memory_bias', 'float', [batch, 1, 1, source]),
  };
  // A cached step has one query row: its attention products are small.
  const ops = new GraphModelOps(o, undefined, true);
  const positions = o.gather(table, positionIds);
  const out = decoderBlocks(ops, p, config, { ids, positions, positionIds, selfBias }, memory, cache);
  const tokensTransposed = config.tiedOutput
    ? o.placeholder('tokens_transposed', 'float', [...params.get('embedding/tokens')!].reverse())
    : undefined;
  const last = o.slice(
    o.reshape(out.rows, [batch, tokens, config.hidden]),
    [0, subtractSizes(tokens, 1), 0],
    [-1, 1, -1],
  );
  o.identity(outputLogits(ops, p, config, o.reshape(last, [batch, config.hidden]), tokensTransposed), 'logits');
  blocks.forEach((l) => {
    o.identity(out.cache.keys[l]!, `keys/${l}`);
    o.identity(out.cache.values[l]!, `values/${l}`);
  });
  const cacheInputs = blocks.flatMap((l) => [`cache/keys/${l}`, `cache/values/${l}`]);
  const memoryInputs = [...blocks.flatMap((l) => [`memory/keys/${l}`, `memory/values/${l}`]), 'memory_bias'];
  const parameters = names();
  return {
    savedModel: o.g.toSavedModel(),
    parameters,
    inputs: [
      ...parameters.map((name) => `param/${name}`),
      'decoder_ids',
      'position_ids',
      'position_table',
      'decoder_bias',
      ...cacheInputs,
      ...memoryInputs,
      ...(tokensTransposed ? ['tokens_transposed'] : []),
    ],
  };
}
