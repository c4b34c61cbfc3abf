import { ProtoWriter } from './protobuf';

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

/** The graph's output `index` of node `name`, as TensorFlow spells an edge ("name" or "name:1"). */
export type Edge = string;

/**
 * Builds a TensorFlow GraphDef node by node. Nodes get unique names from their op; inputs are the
 * edges other nodes returned. `toSavedModel` wraps the graph in a SavedModel with the `serve` tag,
 * which the native backend loads into a TensorFlow session.
 */
export class GraphBuilder {
  private readonly nodes: ProtoWriter[] = [];
  private count = 0;

  op(op: string, inputs: readonly Edge[], attrs: Readonly<Record<string, Attr>> = {}, name?: string): Edge {
    const nodeName = name ?? `${op}_${this.count++}`;
    const node = new ProtoWriter().bytesField(1, nodeName).bytesField(2, op);
    for (const input of inputs) node.bytesField(3, input);
    for (const [key, value] of Object.entries(attrs))
      node.bytesField(5, new ProtoWriter().bytesField(1, key).bytesField(2, attrValue(value)));
    this.nodes.push(node);
    return nodeName;
  }

  /** The `index`-th output of a node with several. */
  static output(node: Edge, index: number): Edge {
    return `${node}:${index}`;
  }

  placeholder(name: string, dtype: DType, shape: readonly number[]): Edge {
    return this.op('Placeholder', [], { dtype: { type: dtype }, shape: { shape } }, name);
  }

  constant(
    values: number | readonly number[],
    shape: readonly number[] = [],
    dtype: 'float' | 'int32' = 'float',
  ): Edge {
    const list = typeof values === 'number' ? [values] : values;
    return this.op('Const', [], { dtype: { type: dtype }, value: { tensor: { dtype, shape, values: list } } });
  }

  /** The serialized SavedModel (saved_model.pb) holding this graph under the `serve` tag. */
  toSavedModel(): Buffer {
    const graph = new ProtoWriter();
    for (const node of this.nodes) graph.bytesField(1, node);
    // VersionDef: producer and the minimum consumer of current TensorFlow releases.
    graph.bytesField(4, new ProtoWriter().varint(1, 1994).varint(2, 12));
    const metaGraph = new ProtoWriter().bytesField(1, new ProtoWriter().bytesField(4, 'serve')).bytesField(2, graph);
    return new ProtoWriter().varint(1, 1).bytesField(2, metaGraph).finish();
  }
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
