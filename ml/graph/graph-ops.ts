import { GraphBuilder, type DType, type Edge, type TensorType } from './graph-def';
import {
  addSizes,
  broadcastShapes,
  divideSizes,
  GraphShapeError,
  sameSize,
  shapeKey,
  shapeSize,
  subtractSizes,
  SymbolicSize,
  type Shape,
  type Size,
} from './sizes';

export type UnaryOp = 'Square' | 'Sqrt' | 'Rsqrt' | 'Sigmoid' | 'Relu' | 'Tanh' | 'Erf' | 'Exp' | 'Log' | 'Neg';

/** Ops of the form op(y, dy) or op(dy, x) that compute a unary op's gradient, shaped like their first input. */
export type UnaryGradOp = 'SigmoidGrad' | 'RsqrtGrad' | 'SqrtGrad' | 'TanhGrad' | 'ReluGrad';

/**
 * The TensorFlow ops Pipewright's graphs use, as functions of edges, each working out the shape
 * of what it makes (dimensions may be symbolic: ml/graph/sizes.ts). Types follow the inputs; a
 * run-time size such as the batch size is read off the placeholder it was declared on.
 */
export class GraphOps {
  /** Where each named run-time size can be read: a placeholder and an axis. */
  private readonly sizeSources = new Map<string, { edge: Edge; axis: number }>();
  private readonly sizeEdges = new Map<string, Edge>();

  constructor(readonly g: GraphBuilder) {}

  placeholder(name: string, dtype: DType, shape: Shape): Edge {
    const edge = this.g.placeholder(name, dtype, shape);
    shape.forEach((d, axis) => {
      if (d instanceof SymbolicSize && d.name !== undefined && !this.sizeSources.has(d.name))
        this.sizeSources.set(d.name, { edge, axis });
    });
    return edge;
  }

  shapeOf(x: Edge): Shape {
    return this.g.shape(x);
  }

  dtypeOf(x: Edge): DType {
    return this.g.type(x).dtype;
  }

  int(values: number | readonly number[]): Edge {
    return this.g.constant(values, typeof values === 'number' ? [] : [values.length], 'int32');
  }

  scalar(value: number): Edge {
    return this.g.constant(value);
  }

  /** A size as an int32 scalar of the graph: a constant, or computed from the placeholders' shapes. */
  size(size: Size): Edge {
    if (typeof size === 'number') return this.int(size);
    const key = size.key;
    const known = this.sizeEdges.get(key);
    if (known) return known;
    let edge: Edge;
    const name = size.name;
    if (name !== undefined) {
      const source = this.sizeSources.get(name);
      if (!source) throw new GraphShapeError(`no placeholder has the run-time size ${name}`);
      const shape = this.g.op('Shape', [source.edge], { out_type: { type: 'int32' } }, [
        { dtype: 'int32', shape: [this.shapeOf(source.edge).length] },
      ]);
      edge = this.g.op(
        'StridedSlice',
        [shape, this.int([source.axis]), this.int([source.axis + 1]), this.int([1])],
        {
          Index: { type: 'int32' },
          begin_mask: { i: 0 },
          end_mask: { i: 0 },
          ellipsis_mask: { i: 0 },
          new_axis_mask: { i: 0 },
          shrink_axis_mask: { i: 1 },
        },
        [{ dtype: 'int32', shape: [] }],
      );
    } else {
      const int = (op: string, a: Edge, b: Edge) => this.g.op(op, [a, b], {}, [{ dtype: 'int32', shape: [] }]);
      const terms = size.terms.map((t) => {
        const names = [...t.factors].flatMap(([n, power]) => Array<string>(power).fill(n));
        const product = names
          .map((n) => this.size(SymbolicSize.named(n)))
          .reduce((a, b) => int('Mul', a, b), this.int(1));
        return t.coefficient === 1 ? product : int('Mul', product, this.int(t.coefficient));
      });
      edge = terms.reduce((a, b) => int('AddV2', a, b));
    }
    this.sizeEdges.set(key, edge);
    return edge;
  }

  /** An int32 vector of sizes. */
  sizes(dims: Shape): Edge {
    if (dims.every((d) => typeof d === 'number')) return this.int(dims);
    const parts = dims.map((d) => this.size(d));
    return this.g.op('Pack', parts, { N: { i: parts.length }, axis: { i: 0 } }, [
      { dtype: 'int32', shape: [dims.length] },
    ]);
  }

  add = (a: Edge, b: Edge) => this.binary('AddV2', a, b);
  sub = (a: Edge, b: Edge) => this.binary('Sub', a, b);
  mul = (a: Edge, b: Edge) => this.binary('Mul', a, b);
  div = (a: Edge, b: Edge) => this.binary('RealDiv', a, b);
  maximum = (a: Edge, b: Edge) => this.binary('Maximum', a, b);

  unary(op: UnaryOp | 'Softmax' | 'ZerosLike' | 'OnesLike', x: Edge): Edge {
    return this.g.op(op, [x], {}, [this.g.type(x)]);
  }

  unaryGrad(op: UnaryGradOp, a: Edge, b: Edge): Edge {
    return this.g.op(op, [a, b], {}, [this.g.type(a)]);
  }

  identity(x: Edge, name?: string): Edge {
    return this.g.op('Identity', [x], {}, [this.g.type(x)], name);
  }

  /** Stops differentiation: the gradient treats x as a constant. */
  stopGradient(x: Edge): Edge {
    return this.g.op('StopGradient', [x], {}, [this.g.type(x)]);
  }

  /** Half the sum of the squares of all of x's elements (TensorFlow's L2Loss): one pass, no squared copy. */
  halfSumOfSquares(x: Edge): Edge {
    return this.g.op('L2Loss', [x], {}, [{ dtype: this.dtypeOf(x), shape: [] }]);
  }

  /** Sum of same-shaped tensors. */
  addN(parts: readonly Edge[]): Edge {
    if (parts.length === 1) return parts[0]!;
    return this.g.op('AddN', parts, { N: { i: parts.length } }, [this.g.type(parts[0]!)]);
  }

  greaterEqual(a: Edge, b: Edge): Edge {
    return this.g.op('GreaterEqual', [a, b], {}, [
      { dtype: 'bool', shape: broadcastShapes(this.shapeOf(a), this.shapeOf(b)) },
    ]);
  }

  /** Element-wise `condition ? a : b`, broadcasting. */
  select(condition: Edge, a: Edge, b: Edge): Edge {
    return this.g.op('SelectV2', [condition, a, b], { T: { type: this.dtypeOf(a) } }, [
      { dtype: this.dtypeOf(a), shape: broadcastShapes(this.shapeOf(condition), this.shapeOf(a), this.shapeOf(b)) },
    ]);
  }

  cast(x: Edge, dtype: DType): Edge {
    return this.g.op('Cast', [x], { SrcT: { type: this.dtypeOf(x) }, DstT: { type: dtype }, Truncate: { b: false } }, [
      { dtype, shape: this.shapeOf(x) },
    ]);
  }

  /** x's bits read as another type of the same width. */
  bitcast(x: Edge, dtype: 'float' | 'int32'): Edge {
    return this.g.op('Bitcast', [x], { type: { type: dtype } }, [{ dtype, shape: this.shapeOf(x) }]);
  }

  broadcastTo(x: Edge, shape: Shape): Edge {
    if (this.shapeOf(x).length === shape.length && this.shapeOf(x).every((d, i) => sameSize(d, shape[i]!))) return x;
    broadcastShapes(this.shapeOf(x), shape);
    return this.g.op('BroadcastTo', [x, this.sizes(shape)], { Tidx: { type: 'int32' } }, [
      { dtype: this.dtypeOf(x), shape },
    ]);
  }

  /** x reshaped; one size may be -1, worked out from the others. */
  reshape(x: Edge, dims: readonly Size[]): Edge {
    const from = this.shapeOf(x);
    const known = dims.filter((d) => d !== -1);
    const shape = dims.map((d) => (d === -1 ? divideSizes(shapeSize(from), shapeSize(known)) : d));
    if (!sameSize(shapeSize(shape), shapeSize(from)))
      throw new GraphShapeError(`cannot reshape ${shapeKey(from)} to ${shapeKey(shape)}`);
    const target = dims.every((d) => typeof d === 'number') ? this.int(dims) : this.sizes(shape);
    return this.g.op('Reshape', [x, target], { Tshape: { type: 'int32' } }, [{ dtype: this.dtypeOf(x), shape }]);
  }

  transpose(x: Edge, perm: readonly number[]): Edge {
    const shape = this.shapeOf(x);
    return this.g.op(
      'Transpose',
      [x, this.int(perm)],
      { Tperm: { type: 'int32' } },
      [{ dtype: this.dtypeOf(x), shape: perm.map((p) => shape[p]!) }],
      undefined,
      { perm },
    );
  }

  reduce(op: 'Mean' | 'Sum' | 'Max', x: Edge, axes: readonly number[], keep: boolean): Edge {
    const shape = this.shapeOf(x);
    const normal = axes.map((a) => (a < 0 ? a + shape.length : a));
    const out = shape.flatMap((d, i) => (normal.includes(i) ? (keep ? [1] : []) : [d]));
    return this.g.op(
      op,
      [x, this.int(normal)],
      { Tidx: { type: 'int32' }, keep_dims: { b: keep } },
      [{ dtype: this.dtypeOf(x), shape: out }],
      undefined,
      { axes: normal, keep },
    );
  }

  matMul(a: Edge, b: Edge, transposeA = false, transposeB = false): Edge {
    const [a0, a1] = this.shapeOf(a) as [Size, Size];
    const [b0, b1] = this.shapeOf(b) as [Size, Size];
    const [rows, inner] = transposeA ? [a1, a0] : [a0, a1];
    const [inner2, cols] = transposeB ? [b1, b0] : [b0, b1];
    if (!sameSize(inner, inner2))
      throw new GraphShapeError(`MatMul of ${shapeKey(this.shapeOf(a))} and ${shapeKey(this.shapeOf(b))}`);
    return this.g.op('MatMul', [a, b], { transpose_a: { b: transposeA }, transpose_b: { b: transposeB } }, [
      { dtype: 'float', shape: [rows, cols] },
    ]);
  }

  /**
   * The batched matrix product over the last two axes. `kernel: 'eigen'` makes it BatchMatMulV3,
   * which TensorFlow's oneDNN rewrite leaves to Eigen (there is no gradient rule for it: inference
   * graphs only).
   */
  batchMatMul(a: Edge, b: Edge, adjointA = false, adjointB = false, kernel: 'default' | 'eigen' = 'default'): Edge {
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    const [rows, inner] = adjointA ? [sa.at(-1)!, sa.at(-2)!] : [sa.at(-2)!, sa.at(-1)!];
    const [inner2, cols] = adjointB ? [sb.at(-1)!, sb.at(-2)!] : [sb.at(-2)!, sb.at(-1)!];
    if (!sameSize(inner, inner2)) throw new GraphShapeError(`BatchMatMul of ${shapeKey(sa)} and ${shapeKey(sb)}`);
    const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
    const out = [{ dtype: 'float' as const, shape: [...batch, rows, cols] }];
    const adjoints = { adj_x: { b: adjointA }, adj_y: { b: adjointB } };
    if (kernel === 'default') return this.g.op('BatchMatMulV2', [a, b], adjoints, out);
    const float = { type: 'float' as const };
    return this.g.op('BatchMatMulV3', [a, b], { ...adjoints, Ta: float, Tb: float, Tout: float }, out);
  }

  biasAdd(x: Edge, bias: Edge): Edge {
    return this.g.op('BiasAdd', [x, bias], { data_format: { s: 'NHWC' } }, [this.g.type(x)]);
  }

  biasAddGrad(dy: Edge): Edge {
    return this.g.op('BiasAddGrad', [dy], { data_format: { s: 'NHWC' } }, [
      { dtype: 'float', shape: [this.shapeOf(dy).at(-1)!] },
    ]);
  }

  /** x[begin : begin + size] per axis; a size of -1 takes the rest of that axis. */
  slice(x: Edge, begin: readonly Size[], size: readonly Size[]): Edge {
    const shape = this.shapeOf(x);
    const out = size.map((s, i) => (s === -1 ? subtractSizes(shape[i]!, begin[i]!) : s));
    return this.g.op(
      'Slice',
      [x, this.sizes(begin), this.sizes(size)],
      { Index: { type: 'int32' } },
      [{ dtype: this.dtypeOf(x), shape: out }],
      undefined,
      { begin },
    );
  }

  /** x with `before` and `after` zeros along each axis. */
  pad(x: Edge, paddings: readonly (readonly [Size, Size])[]): Edge {
    const shape = this.shapeOf(x);
    const out = shape.map((d, i) => addSizes(addSizes(d, paddings[i]![0]), paddings[i]![1]));
    const flat = this.reshape(this.sizes(paddings.flat()), [paddings.length, 2]);
    return this.g.op(
      'Pad',
      [x, flat],
      { Tpaddings: { type: 'int32' } },
      [{ dtype: this.dtypeOf(x), shape: out }],
      undefined,
      { before: paddings.map(([b]) => b) },
    );
  }

  /** Splits x along axis 0 into its slices. */
  unstack(x: Edge): Edge[] {
    const [count, ...rest] = this.shapeOf(x);
    if (typeof count !== 'number') throw new GraphShapeError('unstack needs a known first dimension');
    const type: TensorType = { dtype: this.dtypeOf(x), shape: rest };
    const node = this.g.op('Unpack', [x], { num: { i: count }, axis: { i: 0 } }, Array<TensorType>(count).fill(type));
    return [...Array(count).keys()].map((i) => GraphBuilder.output(node, i));
  }

  /** Same-shaped tensors stacked along a new axis 0. */
  stack(parts: readonly Edge[]): Edge {
    return this.g.op('Pack', parts, { N: { i: parts.length }, axis: { i: 0 } }, [
      { dtype: this.dtypeOf(parts[0]!), shape: [parts.length, ...this.shapeOf(parts[0]!)] },
    ]);
  }

  /** The parts joined along `axis`. */
  concat(parts: readonly Edge[], axis = 0, name?: string): Edge {
    const first = this.shapeOf(parts[0]!);
    const a = axis < 0 ? axis + first.length : axis;
    const joined = parts.map((p) => this.shapeOf(p)[a]!).reduce(addSizes);
    return this.g.op(
      'ConcatV2',
      [...parts, this.int(a)],
      { N: { i: parts.length }, Tidx: { type: 'int32' } },
      [{ dtype: this.dtypeOf(parts[0]!), shape: first.map((d, i) => (i === a ? joined : d)) }],
      name,
      { axis: a },
    );
  }

  /** Rows of `table` [n, ...] picked by int32 `indices` of any shape. */
  gather(table: Edge, indices: Edge): Edge {
    return this.g.op(
      'GatherV2',
      [table, indices, this.int(0)],
      {
        Tparams: { type: this.dtypeOf(table) },
        Tindices: { type: 'int32' },
        Taxis: { type: 'int32' },
        batch_dims: { i: 0 },
      },
      [{ dtype: this.dtypeOf(table), shape: [...this.shapeOf(indices), ...this.shapeOf(table).slice(1)] }],
    );
  }

  /** Rows of `data` summed into `count` rows by int32 `indices` (the gradient of gather). */
  segmentSum(data: Edge, indices: Edge, count: number): Edge {
    const rest = this.shapeOf(data).slice(this.shapeOf(indices).length);
    return this.g.op(
      'UnsortedSegmentSum',
      [data, indices, this.int(count)],
      {
        Tindices: { type: 'int32' },
        Tnumsegments: { type: 'int32' },
      },
      [{ dtype: this.dtypeOf(data), shape: [count, ...rest] }],
    );
  }

  /** Per row of logits [rows, classes]: the cross-entropy against target distributions, and its gradient. */
  softmaxCrossEntropy(logits: Edge, targets: Edge): { loss: Edge; backprop: Edge } {
    const [rows, classes] = this.shapeOf(logits) as [Size, Size];
    const node = this.g.op('SoftmaxCrossEntropyWithLogits', [logits, targets], {}, [
      { dtype: 'float', shape: [rows] },
      { dtype: 'float', shape: [rows, classes] },
    ]);
    return { loss: node, backprop: GraphBuilder.output(node, 1) };
  }

  /** Uniform random int32 bits of `shape` that depend only on the [2] int32 `seed`. */
  randomBits(shape: Shape, seed: Edge): Edge {
    return this.g.op(
      'StatelessRandomUniformFullInt',
      [this.sizes(shape), seed],
      { dtype: { type: 'int32' }, Tseed: { type: 'int32' } },
      [{ dtype: 'int32', shape }],
    );
  }

  private binary(op: string, a: Edge, b: Edge): Edge {
    return this.g.op(op, [a, b], {}, [
      { dtype: this.dtypeOf(a), shape: broadcastShapes(this.shapeOf(a), this.shapeOf(b)) },
    ]);
  }
}
