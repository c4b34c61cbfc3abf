import type * as Tf from '@tensorflow/tfjs';

/**
 * Rows of an embedding table for token ids. The gradient of `gather` needs the UnsortedSegmentSum
 * kernel, which some backends (wasm) lack; there the gradient is a summing scatter of the upstream
 * gradient into the table's rows, the same sum by another kernel.
 */
export function embeddingLookup(tf: typeof Tf, table: Tf.Tensor2D, ids: Tf.Tensor2D): Tf.Tensor3D {
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(table, ids) as unknown as Tf.Tensor3D;
  const [vocab, width] = table.shape;
  const lookup = tf.customGrad((t: Tf.Tensor | Tf.GradSaveFunc) => ({
    value: tf.gather(t as Tf.Tensor2D, ids),
    gradFunc: (dy: Tf.Tensor | Tf.Tensor[]) =>
      tf.scatterND(ids.reshape([-1, 1]), (dy as Tf.Tensor).reshape([-1, width]), [vocab, width]),
  }));
  return lookup(table) as unknown as Tf.Tensor3D;
}
