import type * as Tf from '@tensorflow/tfjs';
import { NativeOps } from '../backend/native-ops';

/**
 * x·kernel + bias for rows x [rows, in], kernel [in, out], bias [out]. On the native backend it
 * runs TensorFlow's MatMul and BiasAdd directly, and the gradient is two MatMuls and a
 * BiasAddGrad; TensorFlow.js's own matMul wraps every product (and its gradient's) in reshapes
 * to batched form, three extra kernels each.
 */
export function linear(tf: typeof Tf, x: Tf.Tensor2D, kernel: Tf.Tensor2D, bias: Tf.Tensor1D): Tf.Tensor2D {
  const native = NativeOps.of(tf);
  if (!native) return tf.fused.matMul({ a: x, b: kernel, bias }) as Tf.Tensor2D;
  const op = tf.customGrad((...args: (Tf.Tensor | Tf.GradSaveFunc)[]) => {
    const [a, w, b] = args as [Tf.Tensor2D, Tf.Tensor2D, Tf.Tensor1D];
    const save = args[3] as Tf.GradSaveFunc;
    save([a, w]);
    return {
      value: native.biasAdd(native.matMul(a, w), b),
      gradFunc: (dy: Tf.Tensor | Tf.Tensor[], [a0, w0]: Tf.Tensor[]) => {
        const upstream = dy as Tf.Tensor2D;
        return [
          native.matMul(upstream, w0 as Tf.Tensor2D, false, true),
          native.matMul(a0 as Tf.Tensor2D, upstream, true, false),
          native.biasAddGrad(upstream),
        ];
      },
    };
  });
  return op(x, kernel, bias);
}
