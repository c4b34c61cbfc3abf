import { GELU_A, GELU_B } from '../models/gelu';
import type { ModelOps } from '../models/model-ops';
import type { Edge } from './graph-def';
import type { GraphOps } from './graph-ops';
import type { Size } from './sizes';

/**
 * ModelOps as TensorFlow graph nodes. Composite layers are spelled out in primitive ops, so the
 * backward pass comes from the primitives' gradient rules. `dropoutSeed` (an int32 scalar edge) is
 * set for training graphs; without it the graph is an inference graph and dropout the identity.
 */
export class GraphModelOps implements ModelOps<Edge> {
  private sites = 0;

  /**
   * `dropoutSeed` makes a training graph. `smallProducts` marks an inference graph whose batched
   * products are small (a decoding step's one query row over the keys, a short single request):
   * they and the softmax run on Eigen's kernels. At that size oneDNN's, with two threads per op,
   * are several times slower (one row of 4 heads over 64 keys: 103.6 against 10.5 µs); for large
   * batches they are about twice as fast (32 sequences of 64: 483 against 1,065 µs).
   */
  constructor(
    private readonly o: GraphOps,
    private readonly dropoutSeed?: Edge,
    private readonly smallProducts = false,
  ) {}

  dim(x: Edge, axis: number): Size {
    const shape = this.o.shapeOf(x);
    return shape[axis < 0 ? axis + shape.length : axis]!;
  }

  scalar = (value: number) => this.o.scalar(value);
  constant = (values: readonly number[], shape: readonly number[]) => this.o.g.constant(values, shape);
  reshape = (x: Edge, shape: readonly Size[]) => this.o.reshape(x, shape);
  /**
   * In inference graphs, floats are transposed as the int32 bits they are (Bitcast is free): with
   * oneDNN on, TensorFlow replaces float transposes with its oneDNN version, several times slower on
   * the small tensors of batch-1 calls and decoding steps. Training graphs keep the float op, which
   * their gradient rules know.
   */
  transpose(x: Edge, perm: readonly number[]): Edge {
    const { o } = this;
    if (this.dropoutSeed || o.dtypeOf(x) !== 'float') return o.transpose(x, perm);
    return o.bitcast(o.transpose(o.bitcast(x, 'int32'), perm), 'float');
  }
  unstack = (x: Edge) => this.o.unstack(x);
  concat = (parts: readonly Edge[], axis: number) => this.o.concat(parts, axis);
  slice = (x: Edge, begin: readonly Size[], size: readonly Size[]) => this.o.slice(x, begin, size);
  add = (a: Edge, b: Edge) => this.o.add(a, b);
  sub = (a: Edge, b: Edge) => this.o.sub(a, b);
  mul = (a: Edge, b: Edge) => this.o.mul(a, b);
  div = (a: Edge, b: Edge) => this.o.div(a, b);
  maximum = (a: Edge, b: Edge) => this.o.maximum(a, b);
  sum = (x: Edge, axes: readonly number[], keep: boolean) => this.o.reduce('Sum', x, axes, keep);
  /**
   * Matrices (rank 2 both) multiply as MatMul, whose oneDNN kernel takes a transposed operand as it
   * is: as oneDNN's BatchMatMul, batch-1 decoding's tied output projection (a row times the
   * 8,000 × 128 token embeddings, transposed) took 0.8 ms of a 2.5 ms step. In small graphs,
   * matrices taken as they are multiply on Eigen's kernel: one row times the embeddings already
   * transposed, 128 × 8,000, took 124 µs there, 226 µs in oneDNN's MatMul and 273 µs with the
   * 8,000 × 128 table transposed by the op; eight rows 216, 219 and 414 µs.
   */
  matMul(a: Edge, b: Edge, transposeB = false): Edge {
    const { o } = this;
    const matrices = o.shapeOf(a).length === 2 && o.shapeOf(b).length === 2;
    const eigen = this.smallProducts && !this.dropoutSeed && !(matrices && transposeB);
    if (matrices && !eigen) return o.matMul(a, b, false, transposeB);
    return o.batchMatMul(a, b, false, transposeB, eigen ? 'eigen' : 'default');
  }
  /**
   * Small inference products get their softmax spelled out, exp(x − max) / Σ exp(x − max), in
   * Eigen's element-wise kernels: oneDNN's softmax has a fixed cost of tens of microseconds.
   */
  softmax(x: Edge): Edge {
    const { o } = this;
    if (!this.smallProducts || this.dropoutSeed) return o.unary('Softmax', x);
    const exp = o.unary('Exp', o.sub(x, o.reduce('Max', x, [-1], true)));
    return o.div(exp, o.reduce('Sum', exp, [-1], true));
  }
  relu = (x: Edge) => this.o.unary('Relu', x);
  tanh = (x: Edge) => this.o.unary('Tanh', x);

  /** x·σ(x·(A + B·x²)), the tanh approximation rewritten with one sigmoid. */
  gelu(x: Edge): Edge {
    const { o } = this;
    return o.mul(
      x,
      o.unary('Sigmoid', o.mul(x, o.add(o.mul(o.unary('Square', x), o.scalar(GELU_B)), o.scalar(GELU_A)))),
    );
  }

  /** 0.5·x·(1 + erf(x/√2)). */
  geluExact(x: Edge): Edge {
    const { o } = this;
    return o.mul(o.mul(x, o.scalar(0.5)), o.add(o.scalar(1), o.unary('Erf', o.mul(x, o.scalar(Math.SQRT1_2)))));
  }

  embedding = (table: Edge, ids: Edge) => this.o.gather(table, ids);
  linear = (x: Edge, kernel: Edge, bias: Edge) => this.o.biasAdd(this.o.matMul(x, kernel), bias);

  /**
   * Small inference graphs scale the rows: a decoding step's query projection is one row a
   * sequence, against a kernel of hidden × 3·hidden. Other graphs fold the scale into the
   * weights, fewer than their rows.
   */
  scaledProjection(project: (kernel: Edge, bias: Edge) => Edge, kernel: Edge, bias: Edge, scale: Edge): Edge {
    const { o } = this;
    if (this.smallProducts && !this.dropoutSeed) return o.mul(project(kernel, bias), scale);
    return project(o.mul(kernel, scale), o.mul(bias, scale));
  }

  layerNorm(x: Edge, gamma: Edge, beta: Edge, epsilon: number): Edge {
    return this.o.add(this.o.mul(this.normalize(x, epsilon), gamma), beta);
  }

  /**
   * In training graphs (n·γ + β)·W + b = n·(γ ⊙ W) + (β·W + b): the affine step touches the
   * weights, not every row, forward and backward. Inference graphs, which serve single requests
   * whose cost is the number of ops, apply γ and β to the rows instead.
   */
  normalizedLinear(x: Edge, gamma: Edge, beta: Edge, kernel: Edge, bias: Edge, epsilon: number): Edge {
    const { o } = this;
    if (!this.dropoutSeed) return this.linear(this.layerNorm(x, gamma, beta, epsilon), kernel, bias);
    const foldedKernel = o.mul(o.reshape(gamma, [-1, 1]), kernel);
    const foldedBias = o.add(o.reduce('Sum', o.mul(o.reshape(beta, [-1, 1]), kernel), [0], false), bias);
    return this.linear(this.normalize(x, epsilon), foldedKernel, foldedBias);
  }

  dropout(x: Edge, rate: number): Edge {
    const { o } = this;
    if (!this.dropoutSeed || rate === 0) return x;
    const seed = o.g.op('Pack', [this.dropoutSeed, o.int(this.sites++)], { N: { i: 2 }, axis: { i: 0 } }, [
      { dtype: 'int32', shape: [2] },
    ]);
    // Signed integers are uniform on [−2³¹, 2³¹): the lowest rate · 2³² of them are dropped.
    const keep = o.greaterEqual(o.randomBits(o.shapeOf(x), seed), o.int(Math.round(rate * 2 ** 32) - 2 ** 31));
    return o.mul(x, o.select(keep, o.scalar(1 / (1 - rate)), o.scalar(0)));
  }

  /** Each row to mean 0 and variance 1 (variance + ε under the square root). */
  private normalize(x: Edge, epsilon: number): Edge {
    const { o } = this;
    const centred = o.sub(x, o.reduce('Mean', x, [-1], true));
    const variance = o.reduce('Mean', o.unary('Square', centred), [-1], true);
    return o.mul(centred, o.unary('Rsqrt', o.add(variance, o.scalar(epsilon))));
  }
}
