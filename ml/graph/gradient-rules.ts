import type { Edge, GraphNode } from './graph-def';
import type { GraphOps } from './graph-ops';
import { addSizes, sameSize, shapeSize, subtractSizes, type Shape, type Size } from './sizes';

/** What a rule is given besides the node: the gradients of its outputs (undefined: none flows back) and which inputs need one. */
export interface GradientContext {
  readonly dys: readonly (Edge | undefined)[];
  /** The node's outputs as edges. */
  readonly outputs: readonly Edge[];
  /** needs[k]: input k leads back to a differentiated input, so its gradient is wanted. */
  readonly needs: readonly boolean[];
}

/** The gradients of a node's inputs from those of its outputs; undefined where an input needs none. */
export type GradientRule = (o: GraphOps, node: GraphNode, context: GradientContext) => readonly (Edge | undefined)[];

/**
 * dy summed over the axes along which `shape` was broadcast to dy's shape (leading axes it lacks,
 * and axes where it has size 1), so the gradient fits the input: its shape, or one broadcastable
 * to it where dy itself was (see ml/graph/gradients.ts).
 */
export function unbroadcast(o: GraphOps, dy: Edge, shape: Shape): Edge {
  const from = o.shapeOf(dy);
  const lead = from.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) if (i < lead || (shape[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  if (axes.length === 0) return dy;
  const summed = o.reduce('Sum', dy, axes, false);
  const target = from.slice(Math.max(lead, 0)).map((d, i) => (axes.includes(i + lead) ? 1 : d));
  const reduced = o.shapeOf(summed);
  const same = reduced.length === target.length && reduced.every((d, i) => sameSize(d, target[i]!));
  return same ? summed : o.reshape(summed, target);
}

function arg<T>(node: GraphNode, key: string): T {
  if (!(key in node.args)) throw new Error(`node ${node.name} (${node.op}) was built without its ${key}`);
  return node.args[key] as T;
}

/** The first output's gradient, which single-output ops' rules use. */
function dy0(context: GradientContext): Edge {
  return context.dys[0]!;
}

/** A rule for binary element-wise ops from the two local derivatives' products with dy. */
function binary(da: (o: GraphOps, a: Edge, b: Edge, dy: Edge, y: Edge) => Edge, db: typeof da): GradientRule {
  return (o, node, context) => {
    const [a, b] = node.inputs as [Edge, Edge];
    const dy = dy0(context);
    const y = context.outputs[0]!;
    return [
      context.needs[0] ? unbroadcast(o, da(o, a, b, dy, y), o.shapeOf(a)) : undefined,
      context.needs[1] ? unbroadcast(o, db(o, a, b, dy, y), o.shapeOf(b)) : undefined,
    ];
  };
}

/**
 * Gradient of a reduction: dy with the reduced axes put back as size 1 (broadcastable to the
 * input, as every element of a reduced run gets the same gradient), divided by the count for a mean.
 */
function reductionGrad(o: GraphOps, node: GraphNode, dy: Edge, mean: boolean): Edge {
  const shape = o.shapeOf(node.inputs[0]!);
  const axes = arg<number[]>(node, 'axes');
  const kept = arg<boolean>(node, 'keep')
    ? dy
    : o.reshape(
        dy,
        shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      );
  if (!mean) return kept;
  const count = shapeSize(axes.map((a) => shape[a]!));
  const scale = typeof count === 'number' ? o.scalar(1 / count) : o.div(o.scalar(1), o.cast(o.size(count), 'float'));
  return o.mul(kept, scale);
}

function matMulGrads(
  product: (a: Edge, b: Edge, ta: boolean, tb: boolean) => Edge,
  node: GraphNode,
  context: GradientContext,
  ta: boolean,
  tb: boolean,
): [Edge | undefined, Edge | undefined] {
  const [a, b] = node.inputs as [Edge, Edge];
  const dy = dy0(context);
  const [needA, needB] = context.needs;
  if (!ta && !tb)
    return [needA ? product(dy, b, false, true) : undefined, needB ? product(a, dy, true, false) : undefined];
  if (ta && !tb)
    return [needA ? product(b, dy, false, true) : undefined, needB ? product(a, dy, false, false) : undefined];
  if (!ta && tb)
    return [needA ? product(dy, b, false, false) : undefined, needB ? product(dy, a, true, false) : undefined];
  return [needA ? product(b, dy, true, true) : undefined, needB ? product(dy, a, true, true) : undefined];
}

/**
 * Ops whose rules take output gradients that are only broadcastable to the outputs (element-wise
 * ops); every other rule gets them in full.
 */
export const BROADCASTING_RULES: ReadonlySet<string> = new Set([
  'Identity',
  'AddN',
  'AddV2',
  'Sub',
  'Mul',
  'RealDiv',
  'Maximum',
  'SelectV2',
  'Neg',
  'Square',
  'Exp',
  'Log',
  'Erf',
]);

const passThrough: GradientRule = (_o, _node, context) => [dy0(context)];
const none: GradientRule = () => [];

/**
 * One rule per TensorFlow op that a differentiated graph may hold on its way from the parameters
 * to the loss. Each is tested against TensorFlow.js's gradient of the same op
 * (test/ml/gradient-rules.test.ts).
 */
export const GRADIENT_RULES: Readonly<Record<string, GradientRule>> = {
  Identity: passThrough,
  StopGradient: none,
  ZerosLike: none,
  OnesLike: none,
  AddN: (_o, node, context) => node.inputs.map(() => dy0(context)),
  AddV2: binary(
    (_o, _a, _b, dy) => dy,
    (_o, _a, _b, dy) => dy,
  ),
  Sub: (o, node, context) => {
    const [a, b] = node.inputs as [Edge, Edge];
    const dy = dy0(context);
    return [
      context.needs[0] ? unbroadcast(o, dy, o.shapeOf(a)) : undefined,
      context.needs[1] ? o.unary('Neg', unbroadcast(o, dy, o.shapeOf(b))) : undefined,
    ];
  },
  Mul: binary(
    (o, _a, b, dy) => o.mul(dy, b),
    (o, a, _b, dy) => o.mul(dy, a),
  ),
  RealDiv: binary(
    (o, _a, b, dy) => o.div(dy, b),
    (o, _a, b, dy, y) => o.unary('Neg', o.div(o.mul(dy, y), b)),
  ),
  Maximum: binary(
    (o, a, b, dy) => o.select(o.greaterEqual(a, b), dy, o.unary('ZerosLike', dy)),
    (o, a, b, dy) => o.select(o.greaterEqual(a, b), o.unary('ZerosLike', dy), dy),
  ),
  SelectV2: (o, node, context) => {
    const [condition, a, b] = node.inputs as [Edge, Edge, Edge];
    const dy = dy0(context);
    const zeros = o.unary('ZerosLike', dy);
    return [
      undefined,
      context.needs[1] ? unbroadcast(o, o.select(condition, dy, zeros), o.shapeOf(a)) : undefined,
      context.needs[2] ? unbroadcast(o, o.select(condition, zeros, dy), o.shapeOf(b)) : undefined,
    ];
  },
  Neg: (o, _node, context) => [o.unary('Neg', dy0(context))],
  // The factor 2 goes on dy first: a gradient that flows back broadcastable is small.
  Square: (o, node, context) => [o.mul(o.mul(dy0(context), o.scalar(2)), node.inputs[0]!)],
  Sqrt: (o, _node, context) => [o.unaryGrad('SqrtGrad', context.outputs[0]!, dy0(context))],
  Rsqrt: (o, _node, context) => [o.unaryGrad('RsqrtGrad', context.outputs[0]!, dy0(context))],
  Sigmoid: (o, _node, context) => [o.unaryGrad('SigmoidGrad', context.outputs[0]!, dy0(context))],
  Tanh: (o, _node, context) => [o.unaryGrad('TanhGrad', context.outputs[0]!, dy0(context))],
  Relu: (o, _node, context) => [o.unaryGrad('ReluGrad', dy0(context), context.outputs[0]!)],
  Exp: (o, _node, context) => [o.mul(dy0(context), context.outputs[0]!)],
  Log: (o, node, context) => [o.div(dy0(context), node.inputs[0]!)],
  // d erf(x)/dx = 2/√π · exp(−x²)
  Erf: (o, node, context) => {
    const x = node.inputs[0]!;
    const local = o.mul(o.unary('Exp', o.unary('Neg', o.unary('Square', x))), o.scalar(2 / Math.sqrt(Math.PI)));
    return [o.mul(dy0(context), local)];
  },
  // dx = y · (dy − Σ dy·y) over the last axis.
  Softmax: (o, _node, context) => {
    const y = context.outputs[0]!;
    const dy = dy0(context);
    return [o.mul(y, o.sub(dy, o.reduce('Sum', o.mul(dy, y), [-1], true)))];
  },
  Reshape: (o, node, context) => [o.reshape(dy0(context), o.shapeOf(node.inputs[0]!)), undefined],
  BroadcastTo: (o, node, context) => [unbroadcast(o, dy0(context), o.shapeOf(node.inputs[0]!)), undefined],
  Transpose: (o, node, context) => {
    const perm = arg<number[]>(node, 'perm');
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [o.transpose(dy0(context), inverse), undefined];
  },
  Sum: (o, node, context) => [reductionGrad(o, node, dy0(context), false), undefined],
  Mean: (o, node, context) => [reductionGrad(o, node, dy0(context), true), undefined],
  MatMul: (o, node, context) =>
    matMulGrads(
      (a, b, ta, tb) => o.matMul(a, b, ta, tb),
      node,
      context,
      (node.attrs.transpose_a as { b: boolean }).b,
      (node.attrs.transpose_b as { b: boolean }).b,
    ),
  BatchMatMulV2: (o, node, context) => {
    const [da, db] = matMulGrads(
      (a, b, ta, tb) => o.batchMatMul(a, b, ta, tb),
      node,
      context,
      (node.attrs.adj_x as { b: boolean }).b,
      (node.attrs.adj_y as { b: boolean }).b,
    );
    const [a, b] = node.inputs as [Edge, Edge];
    return [da && unbroadcast(o, da, o.shapeOf(a)), db && unbroadcast(o, db, o.shapeOf(b))];
  },
  BiasAdd: (o, _node, context) => [
    context.needs[0] ? dy0(context) : undefined,
    context.needs[1] ? o.biasAddGrad(dy0(context)) : undefined,
  ],
  Slice: (o, node, context) => {
    const x = node.inputs[0]!;
    const begin = arg<Size[]>(node, 'begin');
    const inShape = o.shapeOf(x);
    const outShape = o.shapeOf(context.outputs[0]!);
    const paddings = inShape.map((d, i): [Size, Size] => [
      begin[i]!,
      subtractSizes(subtractSizes(d, begin[i]!), outShape[i]!),
    ]);
    return [o.pad(dy0(context), paddings), undefined, undefined];
  },
  Pad: (o, node, context) => {
    const x = node.inputs[0]!;
    return [o.slice(dy0(context), arg<Size[]>(node, 'before'), o.shapeOf(x)), undefined];
  },
  Unpack: (o, _node, context) => [o.stack(context.dys.map((dy, i) => dy ?? o.unary('ZerosLike', context.outputs[i]!)))],
  Pack: (o, node, context) => {
    const parts = o.unstack(dy0(context));
    return node.inputs.map((_, i) => parts[i]);
  },
  ConcatV2: (o, node, context) => {
    const axis = arg<number>(node, 'axis');
    const parts = node.inputs.slice(0, -1);
    let offset: Size = 0;
    const grads = parts.map((part) => {
      const shape = o.shapeOf(part);
      const width = shape[axis]!;
      const grad = o.slice(
        dy0(context),
        shape.map((_, i) => (i === axis ? offset : 0)),
        shape.map((d, i) => (i === axis ? d : -1)),
      );
      offset = addSizes(offset, width);
      return grad;
    });
    return [...grads, undefined];
  },
  GatherV2: (o, node, context) => {
    const [table, indices] = node.inputs as [Edge, Edge];
    const [rows, ...rest] = o.shapeOf(table);
    if (typeof rows !== 'number') throw new Error('the gradient of a gather needs a table of known size');
    const flat = o.reshape(dy0(context), [-1, ...rest]);
    return [o.segmentSum(flat, o.reshape(indices, [-1]), rows), undefined, undefined];
  },
  SoftmaxCrossEntropyWithLogits: (o, _node, context) => {
    const [dLoss] = context.dys;
    if (context.needs[1]) throw new Error('the cross-entropy is not differentiated with respect to its targets');
    return [o.mul(context.outputs[1]!, o.reshape(dLoss!, [-1, 1])), undefined];
  },
};
