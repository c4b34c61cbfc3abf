import type * as Tf from '@tensorflow/tfjs';
import type { Size } from '../graph/sizes';
import { dropout } from './dropout';
import { embeddingLookup } from './embedding-lookup';
import { gelu, geluExact } from './gelu';
import { layerNorm, normalizedLinear } from './layer-norm';
import { linear } from './linear';
import type { ModelOps } from './model-ops';

type Tensor = Tf.Tensor;

/** Options of one eager pass. */
export interface PassOptions {
  readonly training: boolean;
  /** Seeds this pass's dropout masks, e.g. derived from (seed, step), so training is reproducible. */
  readonly dropoutSeed?: number;
}

function numbers(shape: readonly Size[]): number[] {
  return shape.map((d) => {
    if (typeof d !== 'number') throw new TypeError('eager tensors have numeric sizes');
    return d;
  });
}

/**
 * ModelOps on TensorFlow.js tensors, one kernel launch at a time, differentiable by TensorFlow.js.
 * Layer norm, GELU, dropout and dense layers use the hand-tuned kernels and gradients of
 * ml/models/ (fused native kernels where the backend has them). One instance serves one pass.
 */
export class EagerOps implements ModelOps<Tensor> {
  private sites = 0;

  constructor(
    private readonly tf: typeof Tf,
    private readonly pass: PassOptions,
  ) {}

  dim(x: Tensor, axis: number): Size {
    return x.shape[axis < 0 ? axis + x.rank : axis]!;
  }

  scalar(value: number): Tensor {
    return this.tf.scalar(value);
  }

  constant(values: readonly number[], shape: readonly number[]): Tensor {
    return this.tf.tensor(values, [...shape], 'float32');
  }

  reshape(x: Tensor, shape: readonly Size[]): Tensor {
    return this.tf.reshape(x, numbers(shape));
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    return this.tf.transpose(x, [...perm]);
  }

  unstack(x: Tensor): Tensor[] {
    return this.tf.unstack(x);
  }

  concat(parts: readonly Tensor[], axis: number): Tensor {
    return this.tf.concat([...parts], axis);
  }

  slice(x: Tensor, begin: readonly Size[], size: readonly Size[]): Tensor {
    return this.tf.slice(x, numbers(begin), numbers(size));
  }

  add = (a: Tensor, b: Tensor) => this.tf.add(a, b);
  sub = (a: Tensor, b: Tensor) => this.tf.sub(a, b);
  mul = (a: Tensor, b: Tensor) => this.tf.mul(a, b);
  div = (a: Tensor, b: Tensor) => this.tf.div(a, b);
  maximum = (a: Tensor, b: Tensor) => this.tf.maximum(a, b);

  sum(x: Tensor, axes: readonly number[], keep: boolean): Tensor {
    return this.tf.sum(x, [...axes], keep);
  }

  matMul(a: Tensor, b: Tensor, transposeB = false): Tensor {
    return this.tf.matMul(a, b, false, transposeB);
  }

  softmax = (x: Tensor) => this.tf.softmax(x);
  relu = (x: Tensor) => this.tf.relu(x);
  tanh = (x: Tensor) => this.tf.tanh(x);
  gelu = (x: Tensor) => gelu(this.tf, x);
  geluExact = (x: Tensor) => geluExact(this.tf, x);

  embedding(table: Tensor, ids: Tensor): Tensor {
    return embeddingLookup(this.tf, table as Tf.Tensor2D, ids as Tf.Tensor2D);
  }

  linear(x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
    return linear(this.tf, x as Tf.Tensor2D, kernel as Tf.Tensor2D, bias as Tf.Tensor1D);
  }

  scaledProjection(project: (kernel: Tensor, bias: Tensor) => Tensor, kernel: Tensor, bias: Tensor, scale: Tensor) {
    return project(this.tf.mul(kernel, scale), this.tf.mul(bias, scale));
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): Tensor {
    return layerNorm(this.tf, x, gamma as Tf.Tensor1D, beta as Tf.Tensor1D, epsilon);
  }

  normalizedLinear(x: Tensor, gamma: Tensor, beta: Tensor, kernel: Tensor, bias: Tensor, epsilon: number): Tensor {
    const t = this.tf;
    return normalizedLinear(
      t,
      x as Tf.Tensor2D,
      gamma as Tf.Tensor1D,
      beta as Tf.Tensor1D,
      kernel as Tf.Tensor2D,
      bias as Tf.Tensor1D,
      epsilon,
    );
  }

  dropout(x: Tensor, rate: number): Tensor {
    if (!this.pass.training || rate === 0) return x;
    return dropout(this.tf, x, rate, [this.pass.dropoutSeed ?? 0, this.sites++]);
  }
}
