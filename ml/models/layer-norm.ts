import type * as Tf from '@tensorflow/tfjs';

/** Added to the variance before the square root. */
export const LAYER_NORM_EPSILON = 1e-6;

/**
 * Layer normalization over the last axis, (x − mean) / √(variance + ε) · gamma + beta, with a
 * hand-written gradient: about half the kernels that differentiating the formula op by op
 * produces (the mean, variance and division each add several).
 */
export function layerNorm(tf: typeof Tf, x: Tf.Tensor, gamma: Tf.Tensor1D, beta: Tf.Tensor1D): Tf.Tensor {
  const leading = [...Array(x.rank - 1).keys()];
  const op = tf.customGrad((...args: (Tf.Tensor | Tf.GradSaveFunc)[]) => {
    const [v, g, b] = args as Tf.Tensor[];
    const save = args[3] as Tf.GradSaveFunc;
    const centred = tf.sub(v!, tf.mean(v!, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), LAYER_NORM_EPSILON));
    const normed = tf.mul(centred, rstd);
    save([normed, rstd, g!]);
    return {
      value: tf.add(tf.mul(normed, g!), b!),
      gradFunc: (dy: Tf.Tensor | Tf.Tensor[], [n, r, g0]: Tf.Tensor[]) => {
        const upstream = dy as Tf.Tensor;
        const dNormed = tf.mul(upstream, g0!);
        // dx = rstd · (dn − mean(dn) − n · mean(dn · n)), all means over the last axis.
        const dx = tf.mul(
          tf.sub(tf.sub(dNormed, tf.mean(dNormed, -1, true)), tf.mul(n!, tf.mean(tf.mul(dNormed, n!), -1, true))),
          r!,
        );
        return [dx, tf.sum(tf.mul(upstream, n!), leading), tf.sum(upstream, leading)];
      },
    };
  });
  return op(x, gamma, beta);
}
