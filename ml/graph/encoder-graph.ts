import type { EncoderConfig } from '../models/encoder-config';
import { GELU_A, GELU_B } from '../models/gelu';
import { LAYER_NORM_EPSILON } from '../models/layer-norm';
import { GraphBuilder, type Edge } from './graph-def';
import { GraphOps } from './graph-ops';

/**
 * An encoder graph and the order to feed it in. Its outputs, by node name: `logits` (inference);
 * `loss`, `grad/<parameter>`, `flat_grad` (all gradients concatenated in parameter order) and
 * `grad_norm` (their global norm) (training).
 */
export interface EncoderGraph {
  readonly savedModel: Buffer;
  /** Placeholder names in the order they are fed: every parameter, then the batch inputs. */
  readonly inputs: readonly string[];
}

/** Batch inputs after the parameters, in feed order, per graph kind. */
export const BATCH_INPUTS = {
  train: ['ids', 'mask', 'positions', 'targets', 'weights', 'dropout_seed'],
  infer: ['ids', 'mask', 'positions'],
} as const;

export type GraphKind = keyof typeof BATCH_INPUTS;

/**
 * `EncoderClassifier` as one TensorFlow graph, for batches of any size and length: the forward
 * pass to the logits (`infer`), or forward, loss and a hand-derived backward pass to every
 * parameter's gradient (`train`), the same math as the model's TensorFlow.js ops and their
 * gradients. A graph runs as one session call, where eager execution launches each of some 460
 * kernels of a training step separately.
 *
 * Inputs: parameters `param/<name>`; `ids` [batch, length] int32; `mask` [batch, length] 0/1;
 * `positions` [length, hidden] (the sinusoidal encodings; ignored for learned positions); for
 * training also `targets` [batch, classes] (label-smoothed one-hot), `weights` [batch] (each
 * example's share of the loss) and the `dropout_seed` int32 scalar.
 */
export function buildEncoderGraph(
  config: EncoderConfig,
  params: ReadonlyMap<string, readonly number[]>,
  kind: GraphKind,
): EncoderGraph {
  const g = new GraphBuilder();
  const o = new GraphOps(g);
  const { add, sub, mul } = o;
  const { hidden: d, heads, classes } = config;
  const dh = d / heads;
  const training = kind === 'train';
  const paramNames = [...params.keys()];
  const param = new Map(paramNames.map((name) => [name, g.placeholder(`param/${name}`, 'float', params.get(name)!)]));
  const p = (name: string) => param.get(name)!;
  const ids = g.placeholder('ids', 'int32', [-1, -1]);
  const mask = g.placeholder('mask', 'float', [-1, -1]);
  const sinusoidal = g.placeholder('positions', 'float', [-1, d]);
  const [batch, length] = o.dims(ids, 2, 'int32') as [Edge, Edge];

  let dropouts = 0;
  const dropoutSeed = training ? g.placeholder('dropout_seed', 'int32', []) : undefined;
  /** The mask of the model's next dropout site, shaped like x: 0 or 1/(1 − rate), from (dropout seed, site). */
  const dropoutMask = (x: Edge): Edge | undefined => {
    if (!dropoutSeed || config.dropout === 0) return undefined;
    const seed = o.shape([dropoutSeed, dropouts++]);
    const bits = g.op(
      'StatelessRandomUniformFullInt',
      [g.op('Shape', [x], { T: { type: 'float' }, out_type: { type: 'int32' } }), seed],
      {
        dtype: { type: 'int32' },
        T: { type: 'int32' },
        Tseed: { type: 'int32' },
      },
    );
    const keep = g.op('GreaterEqual', [bits, o.int(Math.round(config.dropout * 2 ** 32) - 2 ** 31)], {
      T: { type: 'int32' },
    });
    return g.op('SelectV2', [keep, o.scalar(1 / (1 - config.dropout)), o.scalar(0)], { T: { type: 'float' } });
  };
  const drop = (x: Edge, m: Edge | undefined) => (m ? mul(x, m) : x);

  const grads = new Map<string, Edge>();
  const addGrad = (name: string, grad: Edge) => {
    const seen = grads.get(name);
    grads.set(name, seen ? add(seen, grad) : grad);
  };
  const layerNorm = (x: Edge, name: string) => {
    const centred = sub(x, o.reduce('Mean', x, [-1], true));
    const rstd = o.unary(
      'Rsqrt',
      add(o.reduce('Mean', o.unary('Square', centred), [-1], true), o.scalar(LAYER_NORM_EPSILON)),
    );
    const normed = mul(centred, rstd);
    return { out: add(mul(normed, p(`${name}/gamma`)), p(`${name}/beta`)), normed, rstd, name };
  };
  type Norm = ReturnType<typeof layerNorm>;
  const layerNormGrad = (dy: Edge, { normed, rstd, name }: Norm) => {
    addGrad(`${name}/gamma`, o.reduce('Sum', mul(dy, normed), [0], false));
    addGrad(`${name}/beta`, o.reduce('Sum', dy, [0], false));
    // dx = rstd · (dn − mean(dn) − n · mean(dn · n)) with dn = dy · gamma, means over each row.
    const dn = mul(dy, p(`${name}/gamma`));
    const centred = sub(
      sub(dn, o.reduce('Mean', dn, [-1], true)),
      mul(normed, o.reduce('Mean', mul(dn, normed), [-1], true)),
    );
    return mul(centred, rstd);
  };
  const dense = (x: Edge, name: string) => o.biasAdd(o.matMul(x, p(`${name}/kernel`)), p(`${name}/bias`));
  const denseGrad = (dy: Edge, x: Edge, name: string) => {
    addGrad(`${name}/kernel`, o.matMul(x, dy, true, false));
    addGrad(`${name}/bias`, o.biasAddGrad(dy));
    return o.matMul(dy, p(`${name}/kernel`), false, true);
  };
  // GELU (tanh approximation) as x·σ(x·(A + B·x²)); its derivative is σ + x·σ·(1 − σ)·(A + 3B·x²).
  const activation = (x: Edge) => {
    if (config.activation === 'relu') return { out: o.unary('Relu', x), x };
    const square = o.unary('Square', x);
    const s = o.unary('Sigmoid', mul(x, add(mul(square, o.scalar(GELU_B)), o.scalar(GELU_A))));
    return { out: mul(x, s), x, square, s };
  };
  const activationGrad = (dy: Edge, a: ReturnType<typeof activation>) => {
    if (!a.s || !a.square) return g.op('ReluGrad', [dy, a.out], { T: { type: 'float' } });
    const slope = add(mul(a.square, o.scalar(3 * GELU_B)), o.scalar(GELU_A));
    // SigmoidGrad(σ, t) = t·σ·(1 − σ).
    return mul(dy, add(a.s, mul(a.x, g.op('SigmoidGrad', [a.s, slope], { T: { type: 'float' } }))));
  };

  // Forward.
  const flatIds = o.reshape(ids, [-1], 'int32');
  const embedded = g.op('GatherV2', [p('embedding/tokens'), flatIds, o.int(0)], {
    Tparams: { type: 'float' },
    Tindices: { type: 'int32' },
    Taxis: { type: 'int32' },
    batch_dims: { i: 0 },
  });
  const positions =
    config.positional === 'learned' ? o.slice(p('embedding/positions'), [0, 0], [length, d]) : sinusoidal;
  const scaled = o.reshape(mul(embedded, o.scalar(Math.sqrt(d))), [batch, length, d]);
  const summed = o.reshape(add(scaled, positions), [-1, d]);
  const embeddingMask = dropoutMask(summed);
  let x = drop(summed, embeddingMask);
  // Padding positions get a large negative score before the softmax, so no token attends to them.
  const maskBias = o.reshape(mul(sub(o.scalar(1), mask), o.scalar(-1e9)), [batch, 1, 1, length]);
  const layers = [];
  for (let l = 0; l < config.layers; l++) {
    const norm1 = layerNorm(x, `layer${l}/norm1`);
    const qkv = dense(norm1.out, `layer${l}/attention/qkv`);
    // [q|k|v, batch, heads, length, head size]
    const [q0, k, v] = o.unstack(o.transpose(o.reshape(qkv, [batch, length, 3, heads, dh]), [2, 0, 3, 1, 4]), 3) as [
      Edge,
      Edge,
      Edge,
    ];
    const q = mul(q0, o.scalar(1 / Math.sqrt(dh)));
    const probs = o.unary('Softmax', add(o.batchMatMul(q, k, false, true), maskBias));
    const attentionMask = dropoutMask(probs);
    const dropped = drop(probs, attentionMask);
    const context = o.reshape(o.transpose(o.batchMatMul(dropped, v), [0, 2, 1, 3]), [-1, d]);
    const projected = dense(context, `layer${l}/attention/o`);
    const outputMask = dropoutMask(projected);
    const attended = add(x, drop(projected, outputMask));
    const norm2 = layerNorm(attended, `layer${l}/norm2`);
    const act = activation(dense(norm2.out, `layer${l}/ffn/in`));
    const ffnOut = dense(act.out, `layer${l}/ffn/out`);
    const ffnMask = dropoutMask(ffnOut);
    x = add(attended, drop(ffnOut, ffnMask));
    layers.push({ norm1, q, k, v, probs, attentionMask, dropped, context, outputMask, norm2, act, ffnMask });
  }
  // Pooling: the first token's row, or the mean over unpadded tokens.
  const first = config.pooling === 'first';
  const finalNorm = layerNorm(
    first ? o.reshape(o.slice(o.reshape(x, [batch, length, d]), [0, 0, 0], [-1, 1, -1]), [-1, d]) : x,
    'final_norm',
  );
  const maskColumn = o.reshape(mask, [batch, length, 1]);
  const tokenCount = o.maximum(o.reduce('Sum', mask, [1], true), o.scalar(1));
  const pooled = first
    ? finalNorm.out
    : o.div(o.reduce('Sum', mul(o.reshape(finalNorm.out, [batch, length, d]), maskColumn), [1], false), tokenCount);
  const logits = dense(pooled, 'head');
  if (!training) {
    o.identity(logits, 'logits');
    return { savedModel: g.toSavedModel(), inputs: inputNames(paramNames, kind) };
  }

  // Loss: softmax cross-entropy against the targets, weighted per example.
  const targets = g.placeholder('targets', 'float', [-1, classes]);
  const weights = g.placeholder('weights', 'float', [-1]);
  const crossEntropy = g.op('SoftmaxCrossEntropyWithLogits', [logits, targets], { T: { type: 'float' } });
  o.identity(o.reduce('Sum', mul(GraphBuilder.output(crossEntropy, 0), weights), [0], false), 'loss');

  // Backward.
  const dLogits = mul(GraphBuilder.output(crossEntropy, 1), o.reshape(weights, [-1, 1]));
  const dPooled = denseGrad(dLogits, pooled, 'head');
  let dx: Edge;
  if (first) {
    const dFirst = o.reshape(layerNormGrad(dPooled, finalNorm), [batch, 1, d]);
    dx = o.reshape(
      o.pad(dFirst, [
        [0, 0],
        [0, o.subtract(length, 1)],
        [0, 0],
      ]),
      [-1, d],
    );
  } else {
    const spread = mul(o.reshape(o.div(dPooled, tokenCount), [batch, 1, d]), maskColumn);
    dx = layerNormGrad(o.reshape(spread, [-1, d]), finalNorm);
  }
  for (let l = config.layers - 1; l >= 0; l--) {
    const s = layers[l]!;
    const dAct = denseGrad(drop(dx, s.ffnMask), s.act.out, `layer${l}/ffn/out`);
    const dNorm2 = denseGrad(activationGrad(dAct, s.act), s.norm2.out, `layer${l}/ffn/in`);
    const dAttended = add(dx, layerNormGrad(dNorm2, s.norm2));
    const dContext = denseGrad(drop(dAttended, s.outputMask), s.context, `layer${l}/attention/o`);
    const dContext4 = o.transpose(o.reshape(dContext, [batch, length, heads, dh]), [0, 2, 1, 3]);
    const dProbs = drop(o.batchMatMul(dContext4, s.v, false, true), s.attentionMask);
    const dv = o.batchMatMul(s.dropped, dContext4, true, false);
    // Softmax: ds = p · (dp − Σ dp·p) over each row.
    const dScores = mul(s.probs, sub(dProbs, o.reduce('Sum', mul(dProbs, s.probs), [-1], true)));
    const dq = mul(o.batchMatMul(dScores, s.k), o.scalar(1 / Math.sqrt(dh)));
    const dk = o.batchMatMul(dScores, s.q, true, false);
    const dQkv = o.reshape(o.transpose(o.stack([dq, dk, dv]), [1, 3, 0, 2, 4]), [-1, 3 * d]);
    const dNorm1 = denseGrad(dQkv, s.norm1.out, `layer${l}/attention/qkv`);
    dx = add(dAttended, layerNormGrad(dNorm1, s.norm1));
  }
  const dSummed = drop(dx, embeddingMask);
  addGrad(
    'embedding/tokens',
    g.op('UnsortedSegmentSum', [mul(dSummed, o.scalar(Math.sqrt(d))), flatIds, o.int(config.vocabSize)], {
      T: { type: 'float' },
      Tindices: { type: 'int32' },
      Tnumsegments: { type: 'int32' },
    }),
  );
  if (config.positional === 'learned') {
    const dPositions = o.reduce('Sum', o.reshape(dSummed, [batch, length, d]), [0], false);
    addGrad(
      'embedding/positions',
      o.pad(dPositions, [
        [0, o.subtract(config.maxLength, length)],
        [0, 0],
      ]),
    );
  }
  const flat = paramNames.map((name) => {
    const grad = grads.get(name);
    if (!grad) throw new Error(`the training graph has no gradient for parameter ${name}`);
    o.identity(grad, `grad/${name}`);
    return o.reshape(grad, [-1]);
  });
  const flatGrad = o.concat(flat, 'flat_grad');
  o.identity(o.unary('Sqrt', o.reduce('Sum', o.unary('Square', flatGrad), [0], false)), 'grad_norm');
  return { savedModel: g.toSavedModel(), inputs: inputNames(paramNames, kind) };
}

function inputNames(paramNames: readonly string[], kind: GraphKind): string[] {
  return [...paramNames.map((name) => `param/${name}`), ...BATCH_INPUTS[kind]];
}
