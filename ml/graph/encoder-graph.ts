import type { EncoderHead } from '../models/encoder';
import type { EncoderConfig } from '../models/encoder-config';
import { GraphBuilder, type Edge } from './graph-def';
import { GraphModelOps } from './graph-model-ops';
import { GraphOps } from './graph-ops';
import { gradients } from './gradients';
import { SymbolicSize } from './sizes';

/**
 * An encoder graph and the order to feed it in. Its outputs, by node name: `logits` (inference);
 * `loss`, `grad/<parameter>` for each trained parameter, `flat_grad` (their gradients
 * concatenated in the order given) and `grad_norm` (their global norm) (training).
 */
export interface EncoderGraph {
  readonly savedModel: Buffer;
  /** Placeholder names in the order they are fed: every parameter, then the batch inputs. */
  readonly inputs: readonly string[];
}

/**
 * Training graphs give the loss and gradients, inference graphs the logits; `infer-small` ones,
 * for calls of at most SMALL_ATTENTION_SCORES with more than one thread per op, run their batched
 * products and softmax on Eigen's kernels, where oneDNN's cost of sharing tiny ops among threads
 * outweighs the work (GraphModelOps). With one thread per op oneDNN's are the faster (batch 1 of
 * 64 tokens: 1.11–1.26 ms against 1.23–1.39 for the small graph).
 */
export type GraphKind = 'train' | 'infer' | 'infer-small';

/**
 * The most attention scores (batch · heads · length², per layer) a call has for the `infer-small`
 * graph to serve it. Measured on a 2-core CPU, the two graphs alternating in one process: at
 * 4 heads, batch 1 of 64 tokens took 1.52 against 1.96 ms, batch 2 2.85 against 3.12; at twice
 * this (batch 4 of 64, batch 1 of 128, batch 16 of 32) the small graph was 4-9 % slower, and
 * MiniLM's 12 heads at batch 1 of 64 (1.5 times this) came out level.
 */
export const SMALL_ATTENTION_SCORES = 32_768;

/** Batch inputs after the parameters, in feed order: an encoder-decoder model's decoder inputs follow the source's. */
function batchInputs(kind: GraphKind, config: EncoderConfig): string[] {
  const decoder = config.decoderLayers === undefined ? [] : ['decoder_ids', 'decoder_positions', 'decoder_bias'];
  const inputs = ['ids', 'mask', 'types', 'position_table', ...decoder];
  return kind === 'train' ? [...inputs, 'targets', 'weights', 'dropout_seed'] : inputs;
}

/**
 * An encoder and its head as one TensorFlow graph, for batches of any size and length: the
 * model's own forward pass (ml/models/encoder.ts) to the logits (`infer`), or forward, loss and
 * the backward pass derived from it to the gradient of every trained parameter (`train`). A graph runs as one
 * session call, where eager execution launches each of some 460 kernels of a training step
 * separately.
 *
 * Inputs: parameters `param/<name>`; `ids` [batch, length] int32; `mask` [batch, length] 0/1;
 * `types` [batch, length] int32 (token types, read by the `bert` layout);
 * `position_table` [positions, hidden] (the model's sinusoidal encodings, of which the graph reads
 * the first `length` rows: fed whole, a call launches no op to slice it; ignored for learned
 * positions); for an
 * encoder-decoder model `decoder_ids` [batch, target length] int32, `decoder_positions` and the
 * causal `decoder_bias` [target length, target length]; for
 * training also `targets` [rows, classes] (label-smoothed one-hot, one row per row of logits: per
 * sequence or per token, as the head has it), `weights` [rows] (each row's share of the loss) and
 * the `dropout_seed` int32 scalar.
 */
export function buildEncoderGraph(
  config: EncoderConfig,
  head: EncoderHead,
  params: ReadonlyMap<string, readonly number[]>,
  kind: GraphKind,
  trained: readonly string[] = [...params.keys()],
): EncoderGraph {
  const o = new GraphOps(new GraphBuilder());
  const batch = SymbolicSize.named('batch');
  const length = SymbolicSize.named('length');
  const training = kind === 'train';
  const paramNames = [...params.keys()];
  const param = new Map(paramNames.map((name) => [name, o.placeholder(`param/${name}`, 'float', params.get(name)!)]));
  const p = (name: string): Edge => {
    const edge = param.get(name);
    if (!edge) throw new Error(`the model has no parameter ${name}`);
    return edge;
  };
  const ids = o.placeholder('ids', 'int32', [batch, length]);
  const mask = o.placeholder('mask', 'float', [batch, length]);
  const types = o.placeholder('types', 'int32', [batch, length]);
  const table = o.placeholder('position_table', 'float', [SymbolicSize.named('positions'), config.hidden]);
  const positions = o.slice(table, [0, 0], [length, config.hidden]);
  const decoder = config.decoderLayers === undefined ? undefined : decoderPlaceholders(o, config.hidden, batch);
  const dropoutSeed = training ? o.placeholder('dropout_seed', 'int32', []) : undefined;
  const logits = head.logits(new GraphModelOps(o, dropoutSeed, kind === 'infer-small'), p, config, {
    ids,
    mask,
    types,
    positions,
    ...(decoder && { decoder }),
  });
  if (!training) {
    o.identity(logits, 'logits');
    return { savedModel: o.g.toSavedModel(), inputs: inputNames(paramNames, kind, config) };
  }

  // Loss: softmax cross-entropy against the targets, weighted per row.
  const rows = o.shapeOf(logits)[0]!;
  const targets = o.placeholder('targets', 'float', [rows, head.rowClasses?.(config, length) ?? config.classes]);
  const weights = o.placeholder('weights', 'float', [rows]);
  const loss = o.identity(
    o.reduce('Sum', o.mul(o.softmaxCrossEntropy(logits, targets).loss, weights), [0], false),
    'loss',
  );
  // Frozen parameters stay inputs; no gradient is derived for them, so their backward pass is never built.
  const grads = gradients(o, loss, trained.map(p));
  const flat = trained.map((name, i) => {
    const grad = grads[i];
    if (!grad) throw new Error(`the loss does not depend on parameter ${name}`);
    return o.reshape(o.identity(grad, `grad/${name}`), [-1]);
  });
  const flatGrad = o.concat(flat, 0, 'flat_grad');
  o.identity(o.unary('Sqrt', o.mul(o.halfSumOfSquares(flatGrad), o.scalar(2))), 'grad_norm');
  return { savedModel: o.g.toSavedModel(), inputs: inputNames(paramNames, kind, config) };
}

/** The target side of an encoder-decoder batch: token ids [batch, target length], their positions and causal bias. */
function decoderPlaceholders(o: GraphOps, hidden: number, batch: SymbolicSize) {
  const length = SymbolicSize.named('target_length');
  return {
    ids: o.placeholder('decoder_ids', 'int32', [batch, length]),
    positions: o.placeholder('decoder_positions', 'float', [length, hidden]),
    selfBias: o.placeholder('decoder_bias', 'float', [length, length]),
  };
}

function inputNames(paramNames: readonly string[], kind: GraphKind, config: EncoderConfig): string[] {
  return [...paramNames.map((name) => `param/${name}`), ...batchInputs(kind, config)];
}
