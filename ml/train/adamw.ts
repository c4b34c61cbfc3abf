import type * as Tf from '@tensorflow/tfjs';
import { NativeOps } from '../backend/native-ops';

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

/**
 * Adam / AdamW with its moment estimates held as named variables, so a checkpoint can save and
 * restore the optimizer exactly. Weight decay skips biases and layer-norm parameters.
 *
 * The moments of all parameters live in two flat vectors and one update is computed for all of
 * them at once: a handful of large kernels instead of some twenty small ones per parameter, which
 * on the native backend is dominated by per-kernel overhead.
 */
export class AdamW {
  readonly slots = new Map<string, Tf.Variable>();
  /** Updates applied so far; bias correction uses it. */
  step = 0;
  /** The parameters it updates, in the order of its flat slots. */
  readonly names: readonly string[];
  private readonly sizes: number[];
  /** Per-element learning-rate multiples [total], when some parameter's differs from 1. */
  private readonly lrScale: Tf.Tensor1D | undefined;

  constructor(
    private readonly tf: typeof Tf,
    private readonly params: ReadonlyMap<string, Tf.Variable>,
    readonly config: AdamWConfig,
  ) {
    this.names = [...params.keys()];
    this.sizes = this.names.map((name) => params.get(name)!.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    const prefix = params.values().next().value?.name ?? 'params';
    this.slots.set('adam/m', tf.variable(tf.zeros([total]), false, `${prefix}/adam/m`));
    this.slots.set('adam/v', tf.variable(tf.zeros([total]), false, `${prefix}/adam/v`));
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
      const m = this.slots.get('adam/m')!;
      const v = this.slots.get('adam/v')!;
      const before = tf.concat(
        params.map((p) => p.reshape([-1])),
        0,
      );
      const next = this.update(before, m, v, g, lr);
      m.assign(next.m);
      v.assign(next.v);
      // Adam's step is proportional to the learning rate, so per-parameter rates scale the step taken.
      const updatedParams = this.lrScale
        ? tf.add(before, tf.mul(tf.sub(next.params, before), this.lrScale))
        : next.params;
      const pieces = tf.split(updatedParams, this.sizes, 0);
      this.names.forEach((name, i) => {
        if (updated.has(name)) this.params.get(name)!.assign(pieces[i]!.reshape(this.params.get(name)!.shape));
      });
    });
  }

  /**
   * Adam's step for the flat parameters, moments and gradient. The native backend runs it as one
   * fused kernel; elsewhere it is a dozen element-wise ops. Both compute
   * p − lr · m̂ / (√v̂ + ε) with bias-corrected m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).
   */
  private update(p: Tf.Tensor, m: Tf.Tensor, v: Tf.Tensor, g: Tf.Tensor, lr: number) {
    const { tf, config } = this;
    const correction1 = 1 - Math.pow(config.beta1, this.step);
    const correction2 = 1 - Math.pow(config.beta2, this.step);
    const native = NativeOps.of(tf);
    if (native) {
      // The fused op adds ε to √v rather than √v̂; scaling ε by √(1 − β₂ᵗ) makes the two agree.
      return native.applyAdam(p, m, v, g, {
        lr,
        beta1: config.beta1,
        beta2: config.beta2,
        beta1Power: Math.pow(config.beta1, this.step),
        beta2Power: Math.pow(config.beta2, this.step),
        epsilon: config.epsilon * Math.sqrt(correction2),
      });
    }
    const m1 = tf.add(tf.mul(m, config.beta1), tf.mul(g, 1 - config.beta1));
    const v1 = tf.add(tf.mul(v, config.beta2), tf.mul(tf.square(g), 1 - config.beta2));
    const step = tf.mul(tf.div(tf.div(m1, correction1), tf.add(tf.sqrt(tf.div(v1, correction2)), config.epsilon)), lr);
    return { params: tf.sub(p, step), m: m1, v: v1 };
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.lrScale?.dispose();
  }
}

function decays(name: string): boolean {
  return !/(bias|gamma|beta)$/.test(name);
}
