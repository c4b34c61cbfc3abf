import type * as Tf from '@tensorflow/tfjs';

/** The part of tfjs-node's backend that runs a TensorFlow op by name (not in tfjs's public types). */
interface NodeBackend {
  readonly binding: {
    readonly TF_ATTR_TYPE: number;
    readonly TF_ATTR_STRING: number;
    readonly TF_ATTR_BOOL: number;
    readonly TF_ATTR_SHAPE: number;
    readonly TF_ATTR_FLOAT: number;
    readonly TF_FLOAT: number;
    readonly TF_INT32: number;
  };
  executeSingleOutput(name: string, attrs: readonly OpAttr[], inputs: readonly Tf.Tensor[]): Tf.Tensor;
  executeMultipleOutputs(
    name: string,
    attrs: readonly OpAttr[],
    inputs: readonly Tf.Tensor[],
    outputs: number,
  ): Tf.Tensor[];
}

interface OpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: number | string | boolean | readonly number[];
}

/** Adam's first and second moment estimates (flat), each a resource variable (`NativeOps.adamMoments`). */
export interface AdamMomentVariables {
  readonly m: Tf.Tensor;
  readonly v: Tf.Tensor;
}

/** One step of Adam's update for `NativeOps.applyAdam`; the decay rates' powers give the bias correction. */
export interface AdamStep {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly beta1Power: number;
  readonly beta2Power: number;
  readonly epsilon: number;
}

/**
 * TensorFlow ops that TensorFlow.js does not expose, run by name on the native backend (tfjs-node
 * or tfjs-node-gpu) when the model runs op by op: stateless dropout masks, the fused Adam update,
 * fused batch norm, and MatMul/BiasAdd without TensorFlow.js's reshapes — each one kernel where
 * TensorFlow.js would run several. (On the CPU the model normally runs as graphs, ml/graph/; the
 * fused Adam update serves both.)
 */
export class NativeOps {
  /** Resource variables made so far in this process; numbers their names. */
  private static variables = 0;

  private constructor(
    private readonly tf: typeof Tf,
    private readonly backend: NodeBackend,
  ) {}

  /** The native ops, or undefined when the active backend is not TensorFlow's. */
  static of(tf: typeof Tf): NativeOps | undefined {
    // tfjs-node and tfjs-node-gpu both register as 'tensorflow'.
    return tf.getBackend() === 'tensorflow' ? new NativeOps(tf, tf.backend() as unknown as NodeBackend) : undefined;
  }

  /**
   * A dropout mask of `shape` that depends only on `seed`: each element 0 with probability `rate`,
   * else 1 / (1 − rate). Drawn as uniform 32-bit integers (TensorFlow's
   * StatelessRandomUniformFullInt, cheaper than uniform floats) compared with rate · 2³², so the
   * rate is exact to 2⁻³².
   */
  dropoutMask(shape: readonly number[], rate: number, seed: readonly [number, number]): Tf.Tensor {
    const { tf } = this;
    const { TF_INT32, TF_FLOAT } = this.backend.binding;
    return tf.tidy(() => {
      const bits = this.backend.executeSingleOutput(
        'StatelessRandomUniformFullInt',
        [this.type('dtype', TF_INT32), this.type('T', TF_INT32), this.type('Tseed', TF_INT32)],
        [tf.tensor1d([...shape], 'int32'), tf.tensor1d([seed[0] | 0, seed[1] | 0], 'int32')],
      );
      // Signed integers are uniform on [−2³¹, 2³¹): the lowest rate · 2³² of them are dropped.
      const threshold = tf.scalar(Math.round(rate * 2 ** 32) - 2 ** 31, 'int32');
      return this.backend.executeSingleOutput(
        'SelectV2',
        [this.type('T', TF_FLOAT)],
        [tf.greaterEqual(bits, threshold), tf.scalar(1 / (1 - rate)), tf.scalar(0)],
      );
    });
  }

  /** a·b of two matrices, either transposed first (TensorFlow's MatMul, no reshapes around it). */
  matMul(a: Tf.Tensor2D, b: Tf.Tensor2D, transposeA = false, transposeB = false): Tf.Tensor2D {
    return this.backend.executeSingleOutput(
      'MatMul',
      [
        this.type('T', this.backend.binding.TF_FLOAT),
        this.bool('transpose_a', transposeA),
        this.bool('transpose_b', transposeB),
      ],
      [a, b],
    ) as Tf.Tensor2D;
  }

  /** `bias` added to every row of `x`. */
  biasAdd(x: Tf.Tensor2D, bias: Tf.Tensor1D): Tf.Tensor2D {
    return this.backend.executeSingleOutput('BiasAdd', this.biasAttrs(), [x, bias]) as Tf.Tensor2D;
  }

  /** The gradient of `biasAdd` for its bias: the upstream gradient summed over rows. */
  biasAddGrad(dy: Tf.Tensor2D): Tf.Tensor1D {
    return this.backend.executeSingleOutput('BiasAddGrad', this.biasAttrs(), [dy]) as Tf.Tensor1D;
  }

  /**
   * Each row of a [rows, width] matrix shifted and scaled to mean 0 and variance 1 (variance + ε
   * under the square root): TensorFlow's fused batch norm, one kernel, with the rows as its
   * channels. `saved` is what `normalizeRowsGrad` needs.
   */
  normalizeRows(x: Tf.Tensor2D, epsilon: number): { normed: Tf.Tensor2D; saved: Tf.Tensor[] } {
    const { tf } = this;
    const [rows, width] = x.shape;
    const ones = tf.ones([rows]);
    const [normed, , , ...reserves] = this.backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      [...this.batchNormAttrs(epsilon), this.float('exponential_avg_factor', 1)],
      [x.reshape([1, rows, width, 1]), ones, tf.zeros([rows]), tf.zeros([0]), tf.zeros([0])],
      6,
    );
    return { normed: normed!.reshape([rows, width]), saved: [x, ones, ...reserves] };
  }

  /** The gradient of `normalizeRows` for its input, given the upstream gradient of `normed`. */
  normalizeRowsGrad(dNormed: Tf.Tensor2D, saved: readonly Tf.Tensor[], epsilon: number): Tf.Tensor2D {
    const [x, ones, ...reserves] = saved;
    const [rows, width] = dNormed.shape;
    const as4d = (t: Tf.Tensor) => t.reshape([1, rows, width, 1]);
    const [dx] = this.backend.executeMultipleOutputs(
      'FusedBatchNormGradV3',
      this.batchNormAttrs(epsilon),
      [as4d(dNormed), as4d(x!), ones!, ...reserves],
      5,
    );
    return dx!.reshape([rows, width]);
  }

  /**
   * Adam's moments for `size` parameters (zeros), held in TensorFlow resource variables that no
   * TensorFlow.js tensor shares, so the fused update (ResourceApplyAdam) writes them in place.
   */
  adamMoments(size: number): AdamMomentVariables {
    const { tf } = this;
    const [m, v] = [0, 1].map(() => tf.tidy(() => this.resourceVariable(tf.zeros([size]))));
    return { m: m!, v: v! };
  }

  /**
   * Adam's update of `params` for gradient `grad`, with `moments` updated in place, as one fused
   * kernel: p −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε) after updating m and v. Returns the new
   * parameters. `params` is disposed first unless `keepParams`: then TensorFlow must copy it
   * before writing (copy-on-write), as it must a moment some tensor read from `moments` still holds.
   */
  applyAdam(
    params: Tf.Tensor,
    moments: AdamMomentVariables,
    grad: Tf.Tensor,
    step: AdamStep,
    keepParams = false,
  ): Tf.Tensor {
    const { tf } = this;
    const { TF_FLOAT } = this.backend.binding;
    const variable = this.resourceVariable(params);
    if (!keepParams) params.dispose();
    try {
      tf.tidy(() => {
        const scalar = (x: number) => tf.scalar(x);
        this.backend.executeMultipleOutputs(
          'ResourceApplyAdam',
          [this.type('T', TF_FLOAT), this.bool('use_locking', false), this.bool('use_nesterov', false)],
          [
            variable,
            moments.m,
            moments.v,
            scalar(step.beta1Power),
            scalar(step.beta2Power),
            scalar(step.lr),
            scalar(step.beta1),
            scalar(step.beta2),
            scalar(step.epsilon),
            grad,
          ],
          0,
        );
      });
      return this.read(variable);
    } finally {
      this.destroy(variable);
    }
  }

  /** A resource variable's value: a tensor sharing its buffer until the variable is next written. */
  read(variable: Tf.Tensor): Tf.Tensor {
    return this.backend.executeSingleOutput(
      'ReadVariableOp',
      [this.type('dtype', this.backend.binding.TF_FLOAT)],
      [variable],
    );
  }

  /** Sets a resource variable to `value` (which it then shares, until either is written). */
  assign(variable: Tf.Tensor, value: Tf.Tensor): void {
    const { TF_FLOAT } = this.backend.binding;
    this.backend.executeMultipleOutputs(
      'AssignVariableOp',
      [this.type('dtype', TF_FLOAT), this.bool('validate_shape', false)],
      [variable, value],
      0,
    );
  }

  destroy(variable: Tf.Tensor): void {
    this.backend.executeMultipleOutputs('DestroyResourceOp', [this.bool('ignore_lookup_error', true)], [variable], 0);
    variable.dispose();
  }

  private resourceVariable(value: Tf.Tensor): Tf.Tensor {
    const { TF_FLOAT, TF_ATTR_STRING, TF_ATTR_SHAPE } = this.backend.binding;
    const handle = this.backend.executeSingleOutput(
      'VarHandleOp',
      [
        { name: 'container', type: TF_ATTR_STRING, value: '' },
        // Eager variables need a name no other live variable has.
        { name: 'shared_name', type: TF_ATTR_STRING, value: `pipewright/${++NativeOps.variables}` },
        this.type('dtype', TF_FLOAT),
        { name: 'shape', type: TF_ATTR_SHAPE, value: value.shape },
      ],
      [],
    );
    this.assign(handle, value);
    return handle;
  }

  private biasAttrs(): OpAttr[] {
    return [
      this.type('T', this.backend.binding.TF_FLOAT),
      { name: 'data_format', type: this.backend.binding.TF_ATTR_STRING, value: 'NHWC' },
    ];
  }

  private batchNormAttrs(epsilon: number): OpAttr[] {
    const { TF_FLOAT, TF_ATTR_STRING } = this.backend.binding;
    return [
      this.type('T', TF_FLOAT),
      this.type('U', TF_FLOAT),
      this.float('epsilon', epsilon),
      // Channels first: each row (a channel) is normalized over its own values.
      { name: 'data_format', type: TF_ATTR_STRING, value: 'NCHW' },
      this.bool('is_training', true),
    ];
  }

  private float(name: string, value: number): OpAttr {
    return { name, type: this.backend.binding.TF_ATTR_FLOAT, value };
  }

  private type(name: string, value: number): OpAttr {
    return { name, type: this.backend.binding.TF_ATTR_TYPE, value };
  }

  private bool(name: string, value: boolean): OpAttr {
    return { name, type: this.backend.binding.TF_ATTR_BOOL, value };
  }
}
