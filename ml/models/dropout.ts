import type * as Tf from '@tensorflow/tfjs';
import { NativeOps } from '../backend/native-ops';

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the rest by
 * 1 / (1 − rate). The mask depends only on `seed`, so a step replayed after a crash drops the same
 * elements. The native backend draws it with TensorFlow's stateless generator; TensorFlow.js's
 * seeded generator, which the other backends use, runs in JavaScript and takes several times as
 * long. The gradient is the upstream gradient times the same mask.
 */
export function dropout(tf: typeof Tf, x: Tf.Tensor, rate: number, seed: readonly [number, number]): Tf.Tensor {
  const keep = 1 - rate;
  const op = tf.customGrad((...args: (Tf.Tensor | Tf.GradSaveFunc)[]) => {
    const save = args[1] as Tf.GradSaveFunc;
    const mask =
      NativeOps.of(tf)?.dropoutMask(x.shape, rate, seed) ??
      tf.mul(
        tf.floor(tf.add(tf.randomUniform(x.shape, 0, 1, 'float32', seed[0] * 1_000_003 + seed[1]), keep)),
        1 / keep,
      );
    save([mask]);
    return {
      value: tf.mul(args[0] as Tf.Tensor, mask),
      gradFunc: (dy: Tf.Tensor | Tf.Tensor[], [saved]: Tf.Tensor[]) => tf.mul(dy as Tf.Tensor, saved!),
    };
  });
  return op(x);
}
