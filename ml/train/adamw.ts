import type * as Tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled weight decay; 0 makes this plain Adam. */
  readonly weightDecay: number;
  /** Clip gradients to this global norm; 0 turns clipping off. */
  readonly clipNorm: number;
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
  private readonly names: string[];
  private readonly sizes: number[];

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
  }

  /** Applies one update with learning rate `lr`; returns the gradients' global norm before clipping. */
  apply(grads: Readonly<Record<string, Tf.Tensor>>, lr: number): number {
    const { tf, config } = this;
    this.step++;
    const flat = tf.tidy(() =>
      tf.concat(
        this.names.map((name) => (grads[name] ?? tf.zerosLike(this.params.get(name)!)).reshape([-1])),
        0,
      ),
    );
    const norm = tf.tidy(() => Math.sqrt(tf.sum(tf.square(flat)).dataSync()[0]!));
    const scale = config.clipNorm > 0 && norm > config.clipNorm ? config.clipNorm / norm : 1;
    const correction1 = 1 - Math.pow(config.beta1, this.step);
    const correction2 = 1 - Math.pow(config.beta2, this.step);
    tf.tidy(() => {
      const g = scale === 1 ? flat : tf.mul(flat, scale);
      const m = this.slots.get('adam/m')!;
      const v = this.slots.get('adam/v')!;
      m.assign(tf.add(tf.mul(m, config.beta1), tf.mul(g, 1 - config.beta1)));
      v.assign(tf.add(tf.mul(v, config.beta2), tf.mul(tf.square(g), 1 - config.beta2)));
      const update = tf.mul(
        tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), config.epsilon)),
        lr,
      );
      const pieces = tf.split(update, this.sizes, 0);
      this.names.forEach((name, i) => {
        if (!grads[name]) return;
        const param = this.params.get(name)!;
        const step = pieces[i]!.reshape(param.shape);
        const decayed = config.weightDecay > 0 && decays(name) ? tf.mul(param, 1 - lr * config.weightDecay) : param;
        param.assign(tf.sub(decayed, step));
      });
    });
    flat.dispose();
    return norm;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
  }
}

function decays(name: string): boolean {
  return !/(bias|gamma|beta)$/.test(name);
}
