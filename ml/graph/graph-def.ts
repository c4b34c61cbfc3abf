import { ProtoWriter } from './protobuf';
import { SymbolicSize, type Shape } from './sizes';

/** TensorFlow DataType enum values of the types these graphs use. */
export const DT = { float: 1, int32: 3, bool: 10 } as const;
export type DType = keyof typeof DT;

/** An attribute value (tensorflow.AttrValue). */
export type Attr =
  | { readonly type: DType }
  | { readonly shape: readonly number[] }
  | { readonly i: number }
  | { readonly f: number }
  | { readonly b: boolean }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | {
      readonly tensor: {
        readonly dtype: 'float' | 'int32';
        readonly shape: readonly number[];
        readonly values: readonly number[];
      };
    };

/** Ops without a `T` attribute. */
const NO_T = new Set(['Cast', 'GatherV2', 'BatchMatMulV3']);

/** The graph's output `index` of node `name`, as TensorFlow spells an edge ("name" or "name:1"). */
export type Edge = string;

/** What flows along an edge. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** One node as built: TensorFlow's NodeDef fields, and the types of its outputs. */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly Edge[];
  readonly attrs: Readonly<Record<string, Attr>>;
  readonly outputs: readonly TensorType[];
  /** What the builder knew of the op's arguments beyond its attributes (symbolic begin of a slice, …), for gradient rules. */
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * Builds a TensorFlow GraphDef node by node, keeping every output's type and (possibly symbolic)
 * shape so that the graph can be differentiated (ml/graph/gradients.ts). Nodes get unique names
 * from their op; inputs are the edges other nodes returned, so the nodes are always in
 * topological order. `toSavedModel` wraps the graph in a SavedModel with the `serve` tag, which
 * the native backend loads into a TensorFlow session.
 */
export class GraphBuilder {
  private readonly list: GraphNode[] = [];
  private readonly byName = new Map<string, GraphNode>();
  private count = 0;

  /** Adds a node; returns its first output. `T` defaults to the first input's type. */
  op(
    op: string,
    inputs: readonly Edge[],
    attrs: Readonly<Record<string, Attr>>,
    outputs: readonly TensorType[],
    name?: string,
    args: Readonly<Record<string, unknown>> = {},
  ): Edge {
    const nodeName = name ?? `${op}_${this.count++}`;
    if (this.byName.has(nodeName)) throw new Error(`the graph already has a node ${nodeName}`);
    for (const input of inputs) this.type(input);
    // Most TensorFlow ops are generic over a type `T`, by default the first input's.
    const T: Record<string, Attr> =
      inputs.length > 0 && !('T' in attrs) && !NO_T.has(op) ? { T: { type: this.type(inputs[0]!).dtype } } : {};
    const node: GraphNode = { name: nodeName, op, inputs, attrs: { ...T, ...attrs }, outputs, args };
    this.list.push(node);
    this.byName.set(nodeName, node);
    return nodeName;
  }

  /** The `index`-th output of a node with several. */
  static output(node: Edge, index: number): Edge {
    return index === 0 ? node : `${node}:${index}`;
  }

  /** The node an edge comes out of, and which of its outputs it is. */
  source(edge: Edge): { node: GraphNode; index: number } {
    const colon = edge.lastIndexOf(':');
    const name = colon < 0 ? edge : edge.slice(0, colon);
    const node = this.byName.get(name);
    if (!node) throw new Error(`the graph has no node ${name}`);
    return { node, index: colon < 0 ? 0 : Number(edge.slice(colon + 1)) };
  }

  type(edge: Edge): TensorType {
    const { node, index } = this.source(edge);
    const type = node.outputs[index];
    if (!type) throw new Error(`node ${node.name} has no output ${index}`);
    return type;
  }

  shape(edge: Edge): Shape {
    return this.type(edge).shape;
  }

  get nodes(): readonly GraphNode[] {
    return this.list;
  }

  /** A graph input; symbolic sizes in `shape` are fed as unknown dimensions. */
  placeholder(name: string, dtype: DType, shape: Shape): Edge {
    const dims = shape.map((d) => (d instanceof SymbolicSize ? -1 : d));
    return this.op('Placeholder', [], { dtype: { type: dtype }, shape: { shape: dims } }, [{ dtype, shape }], name);
  }

  constant(
    values: number | readonly number[],
    shape: readonly number[] = [],
    dtype: 'float' | 'int32' = 'float',
  ): Edge {
    const list = typeof values === 'number' ? [values] : values;
    return this.op('Const', [], { dtype: { type: dtype }, value: { tensor: { dtype, shape, values: list } } }, [
      { dtype, shape },
    ]);
  }

  /** The serialized SavedModel (saved_model.pb) holding this graph under the `serve` tag. */
  toSavedModel(): Buffer {
    const graph = new ProtoWriter();
    for (const node of this.list) graph.bytesField(1, nodeDef(node));
    // VersionDef: producer and the minimum consumer of current TensorFlow releases.
    graph.bytesField(4, new ProtoWriter().varint(1, 1994).varint(2, 12));
    const metaGraph = new ProtoWriter().bytesField(1, new ProtoWriter().bytesField(4, 'serve')).bytesField(2, graph);
    return new ProtoWriter().varint(1, 1).bytesField(2, metaGraph).finish();
  }
}

function nodeDef(node: GraphNode): ProtoWriter {
  const w = new ProtoWriter().bytesField(1, node.name).bytesField(2, node.op);
  for (const input of node.inputs) w.bytesField(3, input);
  for (const [key, value] of Object.entries(node.attrs))
    w.bytesField(5, new ProtoWriter().bytesField(1, key).bytesField(2, attrValue(value)));
  return w;
}

function shapeProto(dims: readonly number[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.bytesField(2, new ProtoWriter().varint(1, d));
  return shape;
}

function attrValue(attr: Attr): ProtoWriter {
  const w = new ProtoWriter();
  if ('type' in attr) return w.varint(6, DT[attr.type]);
  if ('shape' in attr) return w.bytesField(7, shapeProto(attr.shape));
  if ('i' in attr) return w.varint(3, attr.i);
  if ('f' in attr) return w.float(4, attr.f);
  if ('b' in attr) return w.bool(5, attr.b);
  if ('s' in attr) return w.bytesField(2, attr.s);
  if ('ints' in attr) {
    const list = new ProtoWriter();
    for (const i of attr.ints) list.varint(3, i);
    return w.bytesField(1, list);
  }
  const { dtype, shape, values } = attr.tensor;
  const content = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => (dtype === 'float' ? content.writeFloatLE(v, 4 * i) : content.writeInt32LE(v, 4 * i)));
  const tensor = new ProtoWriter().varint(1, DT[dtype]).bytesField(2, shapeProto(shape)).bytesField(4, content);
  return w.bytesField(8, tensor);
}
