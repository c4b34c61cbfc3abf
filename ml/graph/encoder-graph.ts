import type { EncoderConfig } from '../models/encoder-config';
import { GELU_A, GELU_B } from '../models/gelu';
import { LAYER_NORM_EPSILON } from '../models/layer-norm';
import { GraphBuilder, type Edge } from './graph-def';

/** A training step of the encoder classifier as one TensorFlow graph, and how to feed and read it. */
export interface TrainingGraph {
  readonly savedModel: Buffer;
  /** Placeholder names in the order `run` feeds them: every parameter, then the batch. */
  readonly inputs: readonly string[];
  /** Output edges: the loss, then every parameter's gradient in parameter order. */
  readonly outputs: readonly string[];
}

/** Batch placeholders after the parameters, in feed order. */
export const BATCH_INPUTS = ['ids', 'mask', 'targets', 'weights', 'dropout_seed', 'positions'] as const;

const T = { T: { type: 'float' } } as const;

/**
 * The forward pass, loss and backward pass of `EncoderClassifier` for one batch shape, with the
 * gradients written out by hand (the same math as the model's TensorFlow.js ops and their
 * gradients). Run as a TensorFlow graph it executes as one session call: TensorFlow's graph
 * optimizer fuses and schedules what eager execution runs op by op.
 *
 * Inputs: parameters `param/<name>`; `ids` [batch, length] int32; `mask` [batch, length] 0/1;
 * `targets` [batch, classes] (label-smoothed one-hot); `weights` [batch] (each example's share of the
 * loss); `dropout_seed` int32 scalar; `positions` [length, hidden] (sinusoidal encodings; unused
 * for learned positions).
 */
export function buildTrainingGraph(
  config: EncoderConfig,
  batch: number,
  length: number,
  params: ReadonlyMap<string, readonly number[]>,
): TrainingGraph {
  const paramNames = [...params.keys()];
  const g = new GraphBuilder();
  const { hidden: d, heads, classes, vocabSize } = config;
  const dh = d / heads;
  const n = batch * length;
  const param = new Map(paramNames.map((name) => [name, g.placeholder(`param/${name}`, 'float', params.get(name)!)]));
  const p = (name: string) => param.get(name)!;
  const ids = g.placeholder('ids', 'int32', [batch, length]);
  const mask = g.placeholder('mask', 'float', [batch, length]);
  const targets = g.placeholder('targets', 'float', [batch, classes]);
  const weights = g.placeholder('weights', 'float', [batch]);
  const dropoutSeed = g.placeholder('dropout_seed', 'int32', []);
  const sinusoidal = g.placeholder('positions', 'float', [length, d]);

  const int = (values: number | readonly number[]) =>
    g.constant(values, typeof values === 'number' ? [] : [values.length], 'int32');
  const scalar = (v: number) => g.constant(v);
  const bin = (op: string) => (a: Edge, b: Edge) => g.op(op, [a, b], T);
  const add = bin('AddV2');
  const sub = bin('Sub');
  const mul = bin('Mul');
  const unary = (op: string) => (a: Edge) => g.op(op, [a], T);
  const reshape = (x: Edge, shape: readonly number[], type: 'float' | 'int32' = 'float') =>
    g.op('Reshape', [x, int(shape)], { T: { type }, Tshape: { type: 'int32' } });
  const transpose = (x: Edge, perm: readonly number[]) =>
    g.op('Transpose', [x, int(perm)], { ...T, Tperm: { type: 'int32' } });
  const reduce = (op: 'Mean' | 'Sum', x: Edge, axes: readonly number[], keep: boolean) =>
    g.op(op, [x, int(axes)], { ...T, Tidx: { type: 'int32' }, keep_dims: { b: keep } });
  const matMul = (a: Edge, b: Edge, ta = false, tb = false) =>
    g.op('MatMul', [a, b], { ...T, transpose_a: { b: ta }, transpose_b: { b: tb } });
  const batchMatMul = (a: Edge, b: Edge, adjX = false, adjY = false) =>
    g.op('BatchMatMulV2', [a, b], { ...T, adj_x: { b: adjX }, adj_y: { b: adjY } });
  const biasAdd = (x: Edge, b: Edge) => g.op('BiasAdd', [x, b], { ...T, data_format: { s: 'NHWC' } });
  const biasAddGrad = (dy: Edge) => g.op('BiasAddGrad', [dy], { ...T, data_format: { s: 'NHWC' } });
  const identity = (x: Edge, name: string) => g.op('Identity', [x], T, name);

  let dropouts = 0;
  /** The dropout mask of the model's next dropout site: 0 or 1/(1 − rate), from seed (dropout seed, site). */
  const dropoutMask = (shape: readonly number[]): Edge | undefined => {
    if (config.dropout === 0) return undefined;
    const seed = g.op('Pack', [dropoutSeed, int(dropouts++)], { T: { type: 'int32' }, N: { i: 2 }, axis: { i: 0 } });
    const bits = g.op('StatelessRandomUniformFullInt', [int(shape), seed], {
      dtype: { type: 'int32' },
      T: { type: 'int32' },
      Tseed: { type: 'int32' },
    });
    const threshold = int(Math.round(config.dropout * 2 ** 32) - 2 ** 31);
    const keep = g.op('GreaterEqual', [bits, threshold], { T: { type: 'int32' } });
    return g.op('SelectV2', [keep, scalar(1 / (1 - config.dropout)), scalar(0)], T);
  };
  const drop = (x: Edge, m: Edge | undefined) => (m ? mul(x, m) : x);

  /** Rows of x [rows, width] to mean 0, variance 1; `rstd` is 1/√(variance + ε) per row. */
  const normalize = (x: Edge) => {
    const centred = sub(x, reduce('Mean', x, [-1], true));
    const rstd = unary('Rsqrt')(add(reduce('Mean', unary('Square')(centred), [-1], true), scalar(LAYER_NORM_EPSILON)));
    return { normed: mul(centred, rstd), rstd };
  };
  const normalizeGrad = (dn: Edge, normed: Edge, rstd: Edge) =>
    mul(sub(sub(dn, reduce('Mean', dn, [-1], true)), mul(normed, reduce('Mean', mul(dn, normed), [-1], true))), rstd);
  const layerNorm = (x: Edge, name: string) => {
    const { normed, rstd } = normalize(x);
    return { out: add(mul(normed, p(`${name}/gamma`)), p(`${name}/beta`)), normed, rstd, name };
  };
  type Norm = ReturnType<typeof layerNorm>;
  const grads = new Map<string, Edge>();
  const addGrad = (name: string, grad: Edge) => {
    const seen = grads.get(name);
    grads.set(name, seen ? add(seen, grad) : grad);
  };
  const layerNormGrad = (dy: Edge, norm: Norm) => {
    addGrad(`${norm.name}/gamma`, reduce('Sum', mul(dy, norm.normed), [0], false));
    addGrad(`${norm.name}/beta`, reduce('Sum', dy, [0], false));
    return normalizeGrad(mul(dy, p(`${norm.name}/gamma`)), norm.normed, norm.rstd);
  };
  const dense = (x: Edge, name: string) => biasAdd(matMul(x, p(`${name}/kernel`)), p(`${name}/bias`));
  const denseGrad = (dy: Edge, x: Edge, name: string) => {
    addGrad(`${name}/kernel`, matMul(x, dy, true, false));
    addGrad(`${name}/bias`, biasAddGrad(dy));
    return matMul(dy, p(`${name}/kernel`), false, true);
  };
  // GELU (tanh approximation) as x·σ(x·(A + B·x²)), and its derivative σ + x·σ·(1 − σ)·(A + 3B·x²).
  const [A, B] = [GELU_A, GELU_B];
  const activation = (x: Edge) => {
    if (config.activation === 'relu') return { out: unary('Relu')(x), x };
    const square = unary('Square')(x);
    const s = unary('Sigmoid')(mul(x, add(mul(square, scalar(B)), scalar(A))));
    return { out: mul(x, s), x, square, s };
  };
  const activationGrad = (dy: Edge, a: ReturnType<typeof activation>) => {
    if (!('s' in a)) return g.op('ReluGrad', [dy, a.out], T);
    const slope = add(mul(a.square!, scalar(3 * B)), scalar(A));
    // SigmoidGrad(σ, t) = t·σ·(1 − σ).
    const local = add(a.s!, mul(a.x, g.op('SigmoidGrad', [a.s!, slope], T)));
    return mul(dy, local);
  };

  // Forward.
  const flatIds = reshape(ids, [n], 'int32');
  const embedded = g.op('GatherV2', [p('embedding/tokens'), flatIds, int(0)], {
    Tparams: { type: 'float' },
    Tindices: { type: 'int32' },
    Taxis: { type: 'int32' },
    batch_dims: { i: 0 },
  });
  const positions =
    config.positional === 'learned'
      ? g.op('Slice', [p('embedding/positions'), int([0, 0]), int([length, d])], { ...T, Index: { type: 'int32' } })
      : sinusoidal;
  const summed = reshape(add(reshape(mul(embedded, scalar(Math.sqrt(d))), [batch, length, d]), positions), [n, d]);
  const embeddingMask = dropoutMask([n, d]);
  let x = drop(summed, embeddingMask);
  const maskBias = reshape(mul(sub(scalar(1), mask), scalar(-1e9)), [batch, 1, 1, length]);
  const saved = [];
  for (let l = 0; l < config.layers; l++) {
    const norm1 = layerNorm(x, `layer${l}/norm1`);
    const qkv = dense(norm1.out, `layer${l}/attention/qkv`);
    const heads5 = transpose(reshape(qkv, [batch, length, 3, heads, dh]), [2, 0, 3, 1, 4]);
    const unpacked = g.op('Unpack', [heads5], { ...T, num: { i: 3 }, axis: { i: 0 } });
    const [q0, k, v] = [0, 1, 2].map((i) => GraphBuilder.output(unpacked, i)) as [Edge, Edge, Edge];
    const q = mul(q0, scalar(1 / Math.sqrt(dh)));
    const probs = g.op('Softmax', [add(batchMatMul(q, k, false, true), maskBias)], T);
    const attentionMask = dropoutMask([batch, heads, length, length]);
    const dropped = drop(probs, attentionMask);
    const context = reshape(transpose(batchMatMul(dropped, v), [0, 2, 1, 3]), [n, d]);
    const outputMask = dropoutMask([n, d]);
    const attended = add(x, drop(dense(context, `layer${l}/attention/o`), outputMask));
    const norm2 = layerNorm(attended, `layer${l}/norm2`);
    const act = activation(dense(norm2.out, `layer${l}/ffn/in`));
    const ffnMask = dropoutMask([n, d]);
    x = add(attended, drop(dense(act.out, `layer${l}/ffn/out`), ffnMask));
    saved.push({ norm1, q, k, v, probs, attentionMask, dropped, context, outputMask, norm2, act, ffnMask });
  }
  // Pooling: the first token's row, or the mean over unpadded tokens.
  const finalNorm =
    config.pooling === 'first'
      ? layerNorm(
          reshape(
            g.op('Slice', [reshape(x, [batch, length, d]), int([0, 0, 0]), int([batch, 1, d])], {
              ...T,
              Index: { type: 'int32' },
            }),
            [batch, d],
          ),
          'final_norm',
        )
      : layerNorm(x, 'final_norm');
  const tokenCount = g.op('Maximum', [reduce('Sum', mask, [1], true), scalar(1)], T);
  const pooled =
    config.pooling === 'first'
      ? finalNorm.out
      : g.op(
          'RealDiv',
          [
            reduce(
              'Sum',
              mul(reshape(finalNorm.out, [batch, length, d]), reshape(mask, [batch, length, 1])),
              [1],
              false,
            ),
            tokenCount,
          ],
          T,
        );
  const logits = dense(pooled, 'head');
  const crossEntropy = g.op('SoftmaxCrossEntropyWithLogits', [logits, targets], T);
  identity(reduce('Sum', mul(GraphBuilder.output(crossEntropy, 0), weights), [0], false), 'loss');

  // Backward.
  const dLogits = mul(GraphBuilder.output(crossEntropy, 1), reshape(weights, [batch, 1]));
  const dPooled = denseGrad(dLogits, pooled, 'head');
  let dx: Edge;
  if (config.pooling === 'first') {
    const dFirst = reshape(layerNormGrad(dPooled, finalNorm), [batch, 1, d]);
    dx = reshape(
      g.op('Pad', [dFirst, g.constant([0, 0, 0, length - 1, 0, 0], [3, 2], 'int32')], {
        ...T,
        Tpaddings: { type: 'int32' },
      }),
      [n, d],
    );
  } else {
    const spread = mul(
      reshape(g.op('RealDiv', [dPooled, tokenCount], T), [batch, 1, d]),
      reshape(mask, [batch, length, 1]),
    );
    dx = layerNormGrad(reshape(spread, [n, d]), finalNorm);
  }
  for (let l = config.layers - 1; l >= 0; l--) {
    const s = saved[l]!;
    const dAct = denseGrad(drop(dx, s.ffnMask), s.act.out, `layer${l}/ffn/out`);
    const dNorm2 = denseGrad(activationGrad(dAct, s.act), s.norm2.out, `layer${l}/ffn/in`);
    const dAttended = add(dx, layerNormGrad(dNorm2, s.norm2));
    const dContext = denseGrad(drop(dAttended, s.outputMask), s.context, `layer${l}/attention/o`);
    const dContext4 = transpose(reshape(dContext, [batch, length, heads, dh]), [0, 2, 1, 3]);
    const dDropped = batchMatMul(dContext4, s.v, false, true);
    const dv = batchMatMul(s.dropped, dContext4, true, false);
    const dProbs = drop(dDropped, s.attentionMask);
    const dScores = mul(s.probs, sub(dProbs, reduce('Sum', mul(dProbs, s.probs), [-1], true)));
    const dq = mul(batchMatMul(dScores, s.k), scalar(1 / Math.sqrt(dh)));
    const dk = batchMatMul(dScores, s.q, true, false);
    const dHeads = g.op('Pack', [dq, dk, dv], { ...T, N: { i: 3 }, axis: { i: 0 } });
    const dQkv = reshape(transpose(dHeads, [1, 3, 0, 2, 4]), [n, 3 * d]);
    const dNorm1 = denseGrad(dQkv, s.norm1.out, `layer${l}/attention/qkv`);
    dx = add(dAttended, layerNormGrad(dNorm1, s.norm1));
  }
  const dSummed = drop(dx, embeddingMask);
  addGrad(
    'embedding/tokens',
    g.op('UnsortedSegmentSum', [mul(dSummed, scalar(Math.sqrt(d))), flatIds, int(vocabSize)], {
      ...T,
      Tindices: { type: 'int32' },
      Tnumsegments: { type: 'int32' },
    }),
  );
  if (config.positional === 'learned') {
    const dPositions = reduce('Sum', reshape(dSummed, [batch, length, d]), [0], false);
    addGrad(
      'embedding/positions',
      g.op('Pad', [dPositions, g.constant([0, config.maxLength - length, 0, 0], [2, 2], 'int32')], {
        ...T,
        Tpaddings: { type: 'int32' },
      }),
    );
  }
  const outputs = ['loss'];
  for (const name of paramNames) {
    const grad = grads.get(name);
    if (!grad) throw new Error(`the training graph has no gradient for parameter ${name}`);
    outputs.push(identity(grad, `grad/${name}`));
  }
  return {
    savedModel: g.toSavedModel(),
    inputs: [...paramNames.map((name) => `param/${name}`), ...BATCH_INPUTS],
    outputs,
  };
}
