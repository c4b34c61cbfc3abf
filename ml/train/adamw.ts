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
 */
export class AdamW {
  readonly slots = new Map<string, Tf.Variable>();
  /** Updates applied so far; bias correction uses it. */
  step = 0;

  constructor(
    private readonly tf: typeof Tf,
    private readonly params: ReadonlyMap<string, Tf.Variable>,
    readonly config: AdamWConfig,
  ) {
    for (const [name, v] of params) {
      this.slots.set(`${name}/m`, tf.variable(tf.zerosLike(v), false, `${v.name}/m`));
      this.slots.set(`${name}/v`, tf.variable(tf.zerosLike(v), false, `${v.name}/v`));
    }
  }

  /** Applies one update with learning rate `lr`; returns the gradients' global norm before clipping. */
  apply(grads: Readonly<Record<string, Tf.Tensor>>, lr: number): number {
    const { tf, config } = this;
    this.step++;
    const norm = tf.tidy(() =>
      Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]!),
    );
    const scale = config.clipNorm > 0 && norm > config.clipNorm ? config.clipNorm / norm : 1;
    const correction1 = 1 - Math.pow(config.beta1, this.step);
    const correction2 = 1 - Math.pow(config.beta2, this.step);
    tf.tidy(() => {
      for (const [name, param] of this.params) {
        const raw = grads[name];
        if (!raw) continue;
        const g = scale === 1 ? raw : tf.mul(raw, scale);
        const m = this.slots.get(`${name}/m`)!;
        const v = this.slots.get(`${name}/v`)!;
        m.assign(tf.add(tf.mul(m, config.beta1), tf.mul(g, 1 - config.beta1)));
        v.assign(tf.add(tf.mul(v, config.beta2), tf.mul(tf.square(g), 1 - config.beta2)));
        let update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), config.epsilon));
        if (config.weightDecay > 0 && decays(name)) update = tf.add(update, tf.mul(param, config.weightDecay));
        param.assign(tf.sub(param, tf.mul(update, lr)));
      }
    });
    return norm;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
  }
}

function decays(name: string): boolean {
  return !/(bias|gamma|beta)$/.test(name);
}
