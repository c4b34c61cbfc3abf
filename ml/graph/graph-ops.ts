import { GraphBuilder, type Edge } from './graph-def';

const T = { T: { type: 'float' } } as const;

/** A dimension known when the graph is built, or an int32 scalar computed by the graph. */
export type Dim = number | Edge;

/**
 * The TensorFlow ops the encoder's graphs use, as functions of edges (float32 unless said
 * otherwise), on top of a GraphBuilder.
 */
export class GraphOps {
  constructor(readonly g: GraphBuilder) {}

  int(values: number | readonly number[]): Edge {
    return this.g.constant(values, typeof values === 'number' ? [] : [values.length], 'int32');
  }

  scalar(value: number): Edge {
    return this.g.constant(value);
  }

  add = (a: Edge, b: Edge) => this.g.op('AddV2', [a, b], T);
  sub = (a: Edge, b: Edge) => this.g.op('Sub', [a, b], T);
  mul = (a: Edge, b: Edge) => this.g.op('Mul', [a, b], T);
  div = (a: Edge, b: Edge) => this.g.op('RealDiv', [a, b], T);
  maximum = (a: Edge, b: Edge) => this.g.op('Maximum', [a, b], T);
  unary = (op: 'Square' | 'Sqrt' | 'Rsqrt' | 'Sigmoid' | 'Relu' | 'Softmax', x: Edge) => this.g.op(op, [x], T);
  identity = (x: Edge, name: string) => this.g.op('Identity', [x], T, name);

  /** a − b for dimensions. */
  subtract(a: Dim, b: Dim): Edge {
    const edge = (x: Dim) => (typeof x === 'number' ? this.int(x) : x);
    return this.g.op('Sub', [edge(a), edge(b)], { T: { type: 'int32' } });
  }

  /** The graph-time sizes of x's first `rank` dimensions, as int32 scalars. */
  dims(x: Edge, rank: number, type: 'float' | 'int32' = 'float'): Edge[] {
    const shape = this.g.op('Shape', [x], { T: { type }, out_type: { type: 'int32' } });
    const parts = this.g.op('Unpack', [shape], { T: { type: 'int32' }, num: { i: rank }, axis: { i: 0 } });
    return [...Array(rank).keys()].map((i) => GraphBuilder.output(parts, i));
  }

  /** An int32 vector of dimensions, from constants and graph-time scalars. */
  shape(dims: readonly Dim[]): Edge {
    if (dims.every((d) => typeof d === 'number')) return this.int(dims);
    const parts = dims.map((d) => (typeof d === 'number' ? this.int(d) : d));
    return this.g.op('Pack', parts, { T: { type: 'int32' }, N: { i: parts.length }, axis: { i: 0 } });
  }

  reshape(x: Edge, dims: readonly Dim[], type: 'float' | 'int32' = 'float'): Edge {
    return this.g.op('Reshape', [x, this.shape(dims)], { T: { type }, Tshape: { type: 'int32' } });
  }

  transpose(x: Edge, perm: readonly number[]): Edge {
    return this.g.op('Transpose', [x, this.int(perm)], { ...T, Tperm: { type: 'int32' } });
  }

  reduce(op: 'Mean' | 'Sum', x: Edge, axes: readonly number[], keep: boolean): Edge {
    return this.g.op(op, [x, this.int(axes)], { ...T, Tidx: { type: 'int32' }, keep_dims: { b: keep } });
  }

  matMul(a: Edge, b: Edge, transposeA = false, transposeB = false): Edge {
    return this.g.op('MatMul', [a, b], { ...T, transpose_a: { b: transposeA }, transpose_b: { b: transposeB } });
  }

  batchMatMul(a: Edge, b: Edge, adjointA = false, adjointB = false): Edge {
    return this.g.op('BatchMatMulV2', [a, b], { ...T, adj_x: { b: adjointA }, adj_y: { b: adjointB } });
  }

  biasAdd(x: Edge, bias: Edge): Edge {
    return this.g.op('BiasAdd', [x, bias], { ...T, data_format: { s: 'NHWC' } });
  }

  biasAddGrad(dy: Edge): Edge {
    return this.g.op('BiasAddGrad', [dy], { ...T, data_format: { s: 'NHWC' } });
  }

  slice(x: Edge, begin: readonly Dim[], size: readonly Dim[]): Edge {
    return this.g.op('Slice', [x, this.shape(begin), this.shape(size)], { ...T, Index: { type: 'int32' } });
  }

  pad(x: Edge, paddings: readonly (readonly [Dim, Dim])[]): Edge {
    const flat = this.reshape(this.shape(paddings.flat()), [paddings.length, 2], 'int32');
    return this.g.op('Pad', [x, flat], { ...T, Tpaddings: { type: 'int32' } });
  }

  /** Splits x along axis 0 into `count` tensors. */
  unstack(x: Edge, count: number): Edge[] {
    const node = this.g.op('Unpack', [x], { ...T, num: { i: count }, axis: { i: 0 } });
    return [...Array(count).keys()].map((i) => GraphBuilder.output(node, i));
  }

  /** The parts joined along axis 0. */
  concat(parts: readonly Edge[], name?: string): Edge {
    return this.g.op(
      'ConcatV2',
      [...parts, this.int(0)],
      { ...T, N: { i: parts.length }, Tidx: { type: 'int32' } },
      name,
    );
  }

  stack(parts: readonly Edge[]): Edge {
    return this.g.op('Pack', parts, { ...T, N: { i: parts.length }, axis: { i: 0 } });
  }
}
