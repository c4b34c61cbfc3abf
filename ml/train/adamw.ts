import type * as Tf from '@tensorflow/tfjs';
import { NativeOps, type AdamMomentVariables, type AdamStep } from '../backend/native-ops';

export interface AdamWConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled weight decay; 0 makes this plain Adam. */
  readonly weightDecay: number;
  /** Clip gradients to this global norm; 0 turns clipping off. */
  readonly clipNorm: number;
  /** Each parameter's learning rate as a multiple of the step's (layer-wise decay, a head rate); absent: 1. */
  readonly lrScales?: ReadonlyMap<string, number>;
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, clipNorm: 1 };

/** The names a checkpoint stores AdamW's moment estimates under. */
export const ADAM_SLOTS = ['adam/m', 'adam/v'] as const;

/**
 * Adam / AdamW with its moment estimates held where a checkpoint can read and restore them
 * exactly (`slotValues`, `loadSlots`). Weight decay skips biases and layer-norm parameters.
 *
 * The moments of all parameters live in two flat vectors and one update is computed for all of
 * them at once: a handful of large kernels instead of some twenty small ones per parameter, which
 * on the native backend is dominated by per-kernel overhead. There the moments are resource
 * variables that the fused update writes in place.
 */
export class AdamW {
  /** Updates applied so far; bias correction uses it. */
  step = 0;
  /** The parameters it updates, in the order of its flat slots. */
  readonly names: readonly string[];
  /** The values in each slot: the parameters' total size. */
  readonly slotSize: number;
  private readonly sizes: number[];
  /** Per-element learning-rate multiples [total], when some parameter's differs from 1. */
  private readonly lrScale: Tf.Tensor1D | undefined;
  private readonly moments: Moments;

  constructor(
    private readonly tf: typeof Tf,
    private readonly params: ReadonlyMap<string, Tf.Variable>,
    readonly config: AdamWConfig,
  ) {
    this.names = [...params.keys()];
    this.sizes = this.names.map((name) => params.get(name)!.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.slotSize = total;
    const native = NativeOps.of(tf);
    this.moments = native ? new FusedMoments(native, total) : new PortableMoments(tf, total);
    const scales = this.names.map((name) => config.lrScales?.get(name) ?? 1);
    if (scales.some((s) => s !== 1)) {
      const perElement = new Float32Array(total);
      let at = 0;
      this.sizes.forEach((size, i) => {
        perElement.fill(scales[i]!, at, at + size);
        at += size;
      });
      this.lrScale = tf.tensor1d(perElement);
    }
  }

  /** The moment estimates by slot name (ADAM_SLOTS), as of now: tensors the caller disposes. */
  slotValues(): Map<string, Tf.Tensor> {
    const { m, v } = this.moments.read();
    return new Map([
      [ADAM_SLOTS[0], m],
      [ADAM_SLOTS[1], v],
    ]);
  }

  /** Replaces the moment estimates: `slotSize` values for each of ADAM_SLOTS. */
  loadSlots(values: ReadonlyMap<string, Float32Array>): void {
    const { tf } = this;
    const [m, v] = ADAM_SLOTS.map((name) => {
      const data = values.get(name);
      if (!data || data.length !== this.slotSize)
        throw new Error(`optimizer slot ${name} needs ${this.slotSize} values, got ${data?.length ?? 'none'}`);
      return tf.tensor1d(data, 'float32');
    });
    try {
      this.moments.write(m!, v!);
    } finally {
      tf.dispose([m!, v!]);
    }
  }

  /** Applies one update with learning rate `lr`; returns the gradients' global norm before clipping. */
  apply(grads: Readonly<Record<string, Tf.Tensor>>, lr: number): number {
    const { tf } = this;
    const flat = tf.tidy(() =>
      tf.concat(
        this.names.map((name) => (grads[name] ?? tf.zerosLike(this.params.get(name)!)).reshape([-1])),
        0,
      ),
    );
    const norm = tf.tidy(() => Math.sqrt(tf.sum(tf.square(flat)).dataSync()[0]!));
    try {
      this.applyFlat(flat, norm, lr, new Set(this.names.filter((name) => grads[name])));
    } finally {
      flat.dispose();
    }
    return norm;
  }

  /**
   * Applies one update from all gradients concatenated in parameter order (`flat`), whose global
   * norm is `norm`; only the parameters in `updated` (all by default) take the step.
   */
  applyFlat(flat: Tf.Tensor, norm: number, lr: number, updated: ReadonlySet<string> = new Set(this.names)): void {
    const { tf, config } = this;
    this.step++;
    const scale = config.clipNorm > 0 && norm > config.clipNorm ? config.clipNorm / norm : 1;
    tf.tidy(() => {
      const g = scale === 1 ? flat : tf.mul(flat, scale);
      // Decoupled weight decay shrinks the parameters before Adam's step.
      const params = this.names.map((name) => {
        const param = this.params.get(name)!;
        const paramLr = lr * (config.lrScales?.get(name) ?? 1);
        return updated.has(name) && config.weightDecay > 0 && decays(name)
          ? tf.mul(param, 1 - paramLr * config.weightDecay)
          : param;
      });
      const before = tf.concat(
        params.map((p) => p.reshape([-1])),
        0,
      );
      // Without per-parameter rates nothing reads `before` again: the update may take it over.
      const next = this.moments.update(before, g, this.adamStep(lr), this.lrScale !== undefined);
      // Adam's step is proportional to the learning rate, so per-parameter rates scale the step taken.
      const updatedParams = this.lrScale ? tf.add(before, tf.mul(tf.sub(next, before), this.lrScale)) : next;
      const pieces = tf.split(updatedParams, this.sizes, 0);
      this.names.forEach((name, i) => {
        if (updated.has(name)) this.params.get(name)!.assign(pieces[i]!.reshape(this.params.get(name)!.shape));
      });
    });
  }

  /** Adam's settings for the current step at learning rate `lr`. */
  private adamStep(lr: number): AdamStep {
    const { beta1, beta2, epsilon } = this.config;
    return {
      lr,
      beta1,
      beta2,
      epsilon,
      beta1Power: Math.pow(beta1, this.step),
      beta2Power: Math.pow(beta2, this.step),
    };
  }

  dispose(): void {
    this.moments.dispose();
    this.lrScale?.dispose();
  }
}

/**
 * Where the moments live, and Adam's step with them: p − lr · m̂ / (√v̂ + ε) with bias-corrected
 * m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), after updating m and v from the gradient.
 */
interface Moments {
  /** The new parameters; the moments advance. Disposes `params` unless `keepParams`. */
  update(params: Tf.Tensor, grad: Tf.Tensor, step: AdamStep, keepParams: boolean): Tf.Tensor;
  /** Their current values: tensors the caller disposes. */
  read(): { m: Tf.Tensor; v: Tf.Tensor };
  write(m: Tf.Tensor, v: Tf.Tensor): void;
  dispose(): void;
}

/**
 * The native backend's: resource variables that one fused kernel writes in place. While a tensor
 * read from one is held, TensorFlow copies it before the next update writes.
 */
class FusedMoments implements Moments {
  private readonly variables: AdamMomentVariables;

  constructor(
    private readonly native: NativeOps,
    size: number,
  ) {
    this.variables = native.adamMoments(size);
  }

  update(params: Tf.Tensor, grad: Tf.Tensor, step: AdamStep, keepParams: boolean): Tf.Tensor {
    // The fused op adds ε to √v rather than √v̂; scaling ε by √(1 − β₂ᵗ) makes the two agree.
    const epsilon = step.epsilon * Math.sqrt(1 - step.beta2Power);
    return this.native.applyAdam(params, this.variables, grad, { ...step, epsilon }, keepParams);
  }

  read(): { m: Tf.Tensor; v: Tf.Tensor } {
    return { m: this.native.read(this.variables.m), v: this.native.read(this.variables.v) };
  }

  write(m: Tf.Tensor, v: Tf.Tensor): void {
    this.native.assign(this.variables.m, m);
    this.native.assign(this.variables.v, v);
  }

  dispose(): void {
    this.native.destroy(this.variables.m);
    this.native.destroy(this.variables.v);
  }
}

/** Every other backend's: TensorFlow.js variables and a dozen element-wise ops. */
class PortableMoments implements Moments {
  private readonly m: Tf.Variable;
  private readonly v: Tf.Variable;

  constructor(
    private readonly tf: typeof Tf,
    size: number,
  ) {
    this.m = tf.variable(tf.zeros([size]), false);
    this.v = tf.variable(tf.zeros([size]), false);
  }

  update(params: Tf.Tensor, g: Tf.Tensor, step: AdamStep, keepParams: boolean): Tf.Tensor {
    const { tf } = this;
    const { lr, beta1, beta2, epsilon } = step;
    const correction1 = 1 - step.beta1Power;
    const correction2 = 1 - step.beta2Power;
    const next = tf.tidy(() => {
      const m1 = tf.add(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1));
      const v1 = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2));
      const delta = tf.mul(tf.div(tf.div(m1, correction1), tf.add(tf.sqrt(tf.div(v1, correction2)), epsilon)), lr);
      this.m.assign(m1);
      this.v.assign(v1);
      return tf.sub(params, delta);
    });
    if (!keepParams) params.dispose();
    return next;
  }

  read(): { m: Tf.Tensor; v: Tf.Tensor } {
    return { m: this.m.clone(), v: this.v.clone() };
  }

  write(m: Tf.Tensor, v: Tf.Tensor): void {
    this.m.assign(m);
    this.v.assign(v);
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}

function decays(name: string): boolean {
  return !/(bias|gamma|beta)$/.test(name);
}
