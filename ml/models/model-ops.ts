import type { Size } from '../graph/sizes';

/**
 * The operations models are written in. A model is one function over these, run two ways: eagerly
 * on TensorFlow.js tensors (EagerOps, the reference on every backend, differentiated by
 * TensorFlow.js) or as TensorFlow graph nodes (GraphModelOps, whose backward pass is derived by
 * ml/graph/gradients.ts). Element-wise ops broadcast as NumPy does. Sizes are numbers eagerly and
 * may be symbolic (the batch size, the length) in a graph.
 */
export interface ModelOps<T> {
  /** The size of `axis` of x. */
  dim(x: T, axis: number): Size;
  scalar(value: number): T;
  /** A float32 constant of `shape`. */
  constant(values: readonly number[], shape: readonly number[]): T;
  reshape(x: T, shape: readonly Size[]): T;
  transpose(x: T, perm: readonly number[]): T;
  /** Splits x along axis 0. */
  unstack(x: T): T[];
  /** The tensors joined along `axis`. */
  concat(parts: readonly T[], axis: number): T;
  /** x[begin : begin + size] per axis; a size of -1 takes the rest of the axis. */
  slice(x: T, begin: readonly Size[], size: readonly Size[]): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  maximum(a: T, b: T): T;
  sum(x: T, axes: readonly number[], keep: boolean): T;
  /** Batched matrix product over the last two axes; `transposeB` uses b's last two axes swapped. */
  matMul(a: T, b: T, transposeB?: boolean): T;
  softmax(x: T): T;
  relu(x: T): T;
  tanh(x: T): T;
  /** GELU, tanh approximation. */
  gelu(x: T): T;
  /** GELU in its exact form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
  geluExact(x: T): T;
  /** Rows of `table` [n, width] for int32 `ids` of any shape: [...ids, width]. */
  embedding(table: T, ids: T): T;
  /** x·kernel + bias for rows x [rows, in]. */
  linear(x: T, kernel: T, bias: T): T;
  /** Layer normalization over the last axis, `epsilon` added to the variance. */
  layerNorm(x: T, gamma: T, beta: T, epsilon: number): T;
  /** linear(layerNorm(x, gamma, beta, epsilon), kernel, bias) for rows x, gamma and beta folded into the weights. */
  normalizedLinear(x: T, gamma: T, beta: T, kernel: T, bias: T, epsilon: number): T;
  /**
   * `project`'s rows with every output column multiplied by `scale` (as the attention's queries
   * are divided by √head size): folded into the kernel and bias it is handed, or, where the rows
   * are fewer than the weights' elements, applied to the rows it returns.
   */
  scaledProjection(project: (kernel: T, bias: T) => T, kernel: T, bias: T, scale: T): T;
  /**
   * Inverted dropout at the model's next dropout site while training, x itself otherwise. Masks
   * depend only on the pass's dropout seed and the site's number, so a replayed step drops the same
   * elements on both paths.
   */
  dropout(x: T, rate: number): T;
}
