import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { GraphBuilder, type Edge } from '../../ml/graph/graph-def';
import { GraphOps } from '../../ml/graph/graph-ops';
import { loadGraph, runGraph } from '../../ml/graph/graph-runner';
import { gradients, GradientError } from '../../ml/graph/gradients';
import { GRADIENT_RULES } from '../../ml/graph/gradient-rules';
import { SymbolicSize, type Shape } from '../../ml/graph/sizes';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
  assert.equal(tf.getBackend(), 'tensorflow');
});

/** A float input: its graph shape (sizes may be symbolic), its run-time shape, and whether values must be positive. */
interface Input {
  readonly shape: Shape;
  readonly dims: readonly number[];
  readonly positive?: boolean;
}

interface Case {
  /** The TensorFlow op whose gradient rule the case checks. */
  readonly op: string;
  readonly inputs: readonly Input[];
  readonly graph: (o: GraphOps, x: Edge[]) => Edge;
  readonly eager: (x: Tf.Tensor[]) => Tf.Tensor;
}

const fixed = (...dims: number[]): Input => ({ shape: dims, dims });
const positive = (...dims: number[]): Input => ({ shape: dims, dims, positive: true });
const batch = SymbolicSize.named('batch');
/** An input whose first dimension is the symbolic batch size, fed with `rows` rows. */
const batched = (rows: number, ...rest: number[]): Input => ({ shape: [batch, ...rest], dims: [rows, ...rest] });

function values(dims: readonly number[], seed: number, isPositive = false): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => {
    const u = Math.sin(seed * 97.1 + i * 12.9898) * 43758.5453;
    const v = (u - Math.floor(u)) * 2 - 1;
    return isPositive ? 0.5 + Math.abs(v) : v;
  });
}

const CASES: Case[] = [
  {
    op: 'AddV2',
    inputs: [fixed(3, 4), fixed(4)],
    graph: (o, [a, b]) => o.add(a!, b!),
    eager: ([a, b]) => tf.add(a!, b!),
  },
  {
    op: 'Sub',
    inputs: [fixed(3, 1), fixed(3, 4)],
    graph: (o, [a, b]) => o.sub(a!, b!),
    eager: ([a, b]) => tf.sub(a!, b!),
  },
  {
    op: 'Mul',
    inputs: [batched(2, 3, 4), fixed(3, 1)],
    graph: (o, [a, b]) => o.mul(a!, b!),
    eager: ([a, b]) => tf.mul(a!, b!),
  },
  {
    op: 'RealDiv',
    inputs: [fixed(3, 4), positive(4)],
    graph: (o, [a, b]) => o.div(a!, b!),
    eager: ([a, b]) => tf.div(a!, b!),
  },
  {
    op: 'Maximum',
    inputs: [fixed(3, 4), fixed(3, 4)],
    graph: (o, [a, b]) => o.maximum(a!, b!),
    eager: ([a, b]) => tf.maximum(a!, b!),
  },
  ...(
    [
      ['Square', (x: Tf.Tensor) => tf.square(x), false],
      ['Sqrt', (x: Tf.Tensor) => tf.sqrt(x), true],
      ['Rsqrt', (x: Tf.Tensor) => tf.rsqrt(x), true],
      ['Sigmoid', (x: Tf.Tensor) => tf.sigmoid(x), false],
      ['Tanh', (x: Tf.Tensor) => tf.tanh(x), false],
      ['Relu', (x: Tf.Tensor) => tf.relu(x), false],
      ['Exp', (x: Tf.Tensor) => tf.exp(x), false],
      ['Log', (x: Tf.Tensor) => tf.log(x), true],
      ['Erf', (x: Tf.Tensor) => tf.erf(x), false],
      ['Neg', (x: Tf.Tensor) => tf.neg(x), false],
      ['Softmax', (x: Tf.Tensor) => tf.softmax(x), false],
    ] as const
  ).map(([op, eager, isPositive]): Case => ({
    op,
    inputs: [isPositive ? positive(3, 5) : batched(3, 5)],
    graph: (o, [x]) => o.unary(op, x!),
    eager: ([x]) => eager(x!),
  })),
  { op: 'Identity', inputs: [fixed(2, 3)], graph: (o, [x]) => o.identity(x!), eager: ([x]) => tf.clone(x!) },
  {
    op: 'AddN',
    inputs: [fixed(2, 3), fixed(2, 3), fixed(2, 3)],
    graph: (o, x) => o.addN(x),
    eager: (x) => tf.addN(x),
  },
  {
    op: 'SelectV2',
    inputs: [fixed(3, 4), fixed(4)],
    graph: (o, [a, b]) => o.select(o.greaterEqual(a!, o.scalar(0)), a!, b!),
    eager: ([a, b]) => tf.where(tf.greaterEqual(a!, 0), a!, tf.broadcastTo(b!, [3, 4])),
  },
  {
    op: 'Reshape',
    inputs: [batched(2, 6)],
    graph: (o, [x]) => o.reshape(x!, [-1, 3, 2]),
    eager: ([x]) => tf.reshape(x!, [-1, 3, 2]),
  },
  {
    op: 'BroadcastTo',
    inputs: [fixed(1, 4)],
    graph: (o, [x]) => o.broadcastTo(x!, [3, 4]),
    eager: ([x]) => tf.broadcastTo(x!, [3, 4]),
  },
  {
    op: 'Transpose',
    inputs: [fixed(2, 3, 4)],
    graph: (o, [x]) => o.transpose(x!, [2, 0, 1]),
    eager: ([x]) => tf.transpose(x!, [2, 0, 1]),
  },
  {
    op: 'Sum',
    inputs: [batched(2, 3, 4)],
    graph: (o, [x]) => o.reduce('Sum', x!, [1], false),
    eager: ([x]) => tf.sum(x!, 1),
  },
  {
    op: 'Mean',
    inputs: [batched(2, 3, 4)],
    graph: (o, [x]) => o.reduce('Mean', x!, [0, -1], true),
    eager: ([x]) => tf.mean(x!, [0, 2], true),
  },
  {
    // A mean's gradient flows back broadcastable and meets a full-sized one: layer norm's centring.
    op: 'Mean',
    inputs: [batched(3, 5)],
    graph: (o, [x]) => o.unary('Square', o.sub(x!, o.reduce('Mean', x!, [-1], true))),
    eager: ([x]) => tf.square(tf.sub(x!, tf.mean(x!, -1, true))),
  },
  ...(
    [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const
  ).map(([ta, tb]): Case => ({
    op: 'MatMul',
    inputs: [fixed(...(ta ? [4, 3] : [3, 4])), fixed(...(tb ? [5, 4] : [4, 5]))],
    graph: (o, [a, b]) => o.matMul(a!, b!, ta, tb),
    eager: ([a, b]) => tf.matMul(a!, b!, ta, tb),
  })),
  ...(
    [
      [false, false],
      [true, true],
      [false, true],
    ] as const
  ).map(([ta, tb]): Case => ({
    op: 'BatchMatMulV2',
    inputs: [batched(2, ...(ta ? [4, 3] : [3, 4])), batched(2, ...(tb ? [5, 4] : [4, 5]))],
    graph: (o, [a, b]) => o.batchMatMul(a!, b!, ta, tb),
    eager: ([a, b]) => tf.matMul(a!, b!, ta, tb),
  })),
  {
    op: 'BiasAdd',
    inputs: [batched(3, 4), fixed(4)],
    graph: (o, [x, b]) => o.biasAdd(x!, b!),
    eager: ([x, b]) => tf.add(x!, b!),
  },
  {
    op: 'Slice',
    inputs: [batched(4, 5)],
    graph: (o, [x]) => o.slice(x!, [0, 1], [-1, 3]),
    eager: ([x]) => tf.slice(x!, [0, 1], [-1, 3]),
  },
  {
    op: 'Slice',
    inputs: [batched(4, 5)],
    graph: (o, [x]) => o.slice(x!, [1, 0], [2, -1]),
    eager: ([x]) => tf.slice(x!, [1, 0], [2, -1]),
  },
  {
    op: 'Pad',
    inputs: [fixed(2, 3)],
    graph: (o, [x]) =>
      o.pad(x!, [
        [1, 0],
        [2, 1],
      ]),
    eager: ([x]) =>
      tf.pad(x!, [
        [1, 0],
        [2, 1],
      ]),
  },
  {
    op: 'Unpack',
    inputs: [fixed(3, 2, 2)],
    // Only two of the three parts are used: the third gets a zero gradient.
    graph: (o, [x]) => {
      const [a, , c] = o.unstack(x!);
      return o.mul(a!, c!);
    },
    eager: ([x]) => {
      const [a, , c] = tf.unstack(x!);
      return tf.mul(a!, c!);
    },
  },
  {
    op: 'Pack',
    inputs: [fixed(2, 3), fixed(2, 3)],
    graph: (o, x) => o.stack(x),
    eager: (x) => tf.stack(x),
  },
  {
    op: 'ConcatV2',
    inputs: [batched(2, 3), batched(2, 1)],
    graph: (o, x) => o.concat(x, 1),
    eager: (x) => tf.concat(x, 1),
  },
  {
    op: 'GatherV2',
    inputs: [fixed(6, 3)],
    graph: (o, [table]) => o.gather(table!, o.g.constant([0, 5, 2, 0], [2, 2], 'int32')),
    eager: ([table]) => tf.gather(table!, tf.tensor2d([0, 5, 2, 0], [2, 2], 'int32')),
  },
  {
    op: 'SoftmaxCrossEntropyWithLogits',
    inputs: [batched(3, 4)],
    graph: (o, [logits]) =>
      o.softmaxCrossEntropy(logits!, o.g.constant([0, 1, 0, 0, 0.25, 0.25, 0.25, 0.25, 0.1, 0, 0, 0.9], [3, 4])).loss,
    eager: ([logits]) =>
      tf.neg(
        tf.sum(
          tf.mul(tf.tensor2d([0, 1, 0, 0, 0.25, 0.25, 0.25, 0.25, 0.1, 0, 0, 0.9], [3, 4]), tf.logSoftmax(logits!)),
          -1,
        ),
      ),
  },
];

/**
 * y = Σ op(inputs) · w for fixed random weights w, differentiated by the graph's rules and by
 * TensorFlow.js; the gradients of every input must agree.
 */
function check(c: Case, index: number): void {
  const o = new GraphOps(new GraphBuilder());
  const xs = c.inputs.map((input, i) => o.placeholder(`x${i}`, 'float', input.shape));
  const out = c.graph(o, xs);
  const outShape = o.shapeOf(out);
  const w = o.placeholder('w', 'float', outShape);
  const y = o.identity(o.reduce('Sum', o.mul(out, w), [...outShape.keys()], false), 'y');
  const grads = gradients(o, y, xs);
  grads.forEach((grad, i) => o.identity(grad!, `grad${i}`));
  const session = loadGraph(tf, o.g.toSavedModel());
  tf.tidy(() => {
    const inputs = c.inputs.map((input, i) =>
      tf.tensor(values(input.dims, index * 10 + i, input.positive), [...input.dims]),
    );
    const eagerOut = c.eager(inputs);
    const weights = tf.tensor(values(eagerOut.shape, index * 10 + 9), eagerOut.shape);
    const expected = tf.grads((...x: Tf.Tensor[]) => tf.sum(tf.mul(c.eager(x), weights)))(inputs);
    const actual = runGraph(
      tf,
      session,
      [...inputs, weights],
      [...xs, 'w'],
      grads.map((_, i) => `grad${i}`),
    );
    expected.forEach((e, i) => {
      assert.deepEqual(actual[i]!.shape, e.shape, `${c.op} (case ${index}) input ${i} shape`);
      const difference = tf.max(tf.abs(tf.sub(actual[i]!, e))).dataSync()[0]!;
      assert.ok(difference < 1e-5, `${c.op} (case ${index}) input ${i}: off by ${difference}`);
    });
  });
}

test('every gradient rule agrees with TensorFlow.js on the op it differentiates', () => {
  CASES.forEach(check);
});

test('every op with a gradient rule is checked here', () => {
  const checked = new Set(CASES.map((c) => c.op));
  const unchecked = Object.keys(GRADIENT_RULES).filter(
    (op) => !checked.has(op) && !['StopGradient', 'ZerosLike', 'OnesLike'].includes(op),
  );
  assert.deepEqual(unchecked, []);
});

test('differentiating through an op without a rule fails with its name', () => {
  const o = new GraphOps(new GraphBuilder());
  const x = o.placeholder('x', 'float', [3]);
  const y = o.reduce('Sum', o.g.op('Cos', [x], {}, [{ dtype: 'float', shape: [3] }]), [0], false);
  assert.throws(
    () => gradients(o, y, [x]),
    (e: Error) => e instanceof GradientError && /Cos/.test(e.message),
  );
});

test('only the inputs that reach the output get a gradient; stopped paths get none', () => {
  const o = new GraphOps(new GraphBuilder());
  const [a, b, c] = ['a', 'b', 'c'].map((n) => o.placeholder(n, 'float', [2]));
  const y = o.reduce('Sum', o.add(o.mul(a!, o.stopGradient(b!)), b!), [0], false);
  const [da, db, dc] = gradients(o, y, [a!, b!, c!]);
  assert.ok(da !== undefined && db !== undefined);
  assert.equal(dc, undefined);
});
