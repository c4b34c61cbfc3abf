import type * as Tf from '@tensorflow/tfjs';

// The tanh approximation of GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), equals x·σ(x·(A + B·x²))
// with these A and B, since 0.5·(1 + tanh(u)) = σ(2u).
export const GELU_A = 2 * Math.sqrt(2 / Math.PI);
export const GELU_B = GELU_A * 0.044715;

/**
 * GELU (tanh approximation) with a hand-written gradient: 6 element-wise kernels forward and 9
 * backward, where differentiating the formula op by op takes about three times as many. On the
 * native backend each kernel is a full pass over the feed-forward activations, so the count is
 * the cost.
 */
export function gelu(tf: typeof Tf, x: Tf.Tensor): Tf.Tensor {
  const op = tf.customGrad((...args: (Tf.Tensor | Tf.GradSaveFunc)[]) => {
    const v = args[0] as Tf.Tensor;
    const save = args[1] as Tf.GradSaveFunc;
    const s = tf.sigmoid(tf.mul(v, tf.add(tf.mul(tf.square(v), GELU_B), GELU_A)));
    save([v, s]);
    return {
      value: tf.mul(v, s),
      // d/dx x·σ(z) = σ + x·σ·(1 − σ)·dz/dx, with dz/dx = A + 3B·x².
      gradFunc: (dy: Tf.Tensor | Tf.Tensor[], [v0, s0]: Tf.Tensor[]) => {
        const slope = tf.add(tf.mul(tf.square(v0!), 3 * GELU_B), GELU_A);
        const local = tf.add(s0!, tf.mul(tf.mul(v0!, tf.mul(s0!, tf.sub(1, s0!))), slope));
        return tf.mul(dy as Tf.Tensor, local);
      },
    };
  });
  return op(x);
}

/**
 * GELU in its exact form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as BERT checkpoints were trained with;
 * TensorFlow.js differentiates it.
 */
export function geluExact(tf: typeof Tf, x: Tf.Tensor): Tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}
