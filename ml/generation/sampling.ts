import { seededRandom } from '../../data/seeded-random';

/** How one sequence picks its next token from the model's logits. */
export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); above 0 samples from softmax(logits / temperature). */
  readonly temperature: number;
  /** Nucleus sampling: only the most likely tokens whose probabilities sum to at least this (1: all). */
  readonly topP: number;
  /** Only the k most likely tokens (0: all). */
  readonly topK: number;
  /** Seeds the draws: the same seed, the same tokens. */
  readonly seed: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topP: 1, topK: 0, seed: 0 };

/** Picks one sequence's next token from the logits, one call per step; `banned` tokens are never picked. */
export type TokenPicker = (logits: Float32Array, banned: ReadonlySet<number>) => number;

export function tokenPicker(options: SamplingOptions): TokenPicker {
  const random = seededRandom(options.seed);
  return (logits, banned) => {
    if (options.temperature === 0) {
      let best = -1;
      for (let i = 0; i < logits.length; i++) if (!banned.has(i) && (best < 0 || logits[i]! > logits[best]!)) best = i;
      return best;
    }
    // Candidates by descending logit, cut to top-k, then to the smallest set holding top-p of the mass.
    const order = Array.from(logits.keys()).filter((i) => !banned.has(i));
    order.sort((a, b) => logits[b]! - logits[a]! || a - b);
    const kept = options.topK > 0 ? order.slice(0, options.topK) : order;
    const top = logits[kept[0]!]!;
    const weights = kept.map((i) => Math.exp((logits[i]! - top) / options.temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    let cut = kept.length;
    if (options.topP < 1) {
      let mass = 0;
      for (let j = 0; j < kept.length; j++) {
        mass += weights[j]! / total;
        if (mass >= options.topP) {
          cut = j + 1;
          break;
        }
      }
    }
    const nucleus = weights.slice(0, cut).reduce((a, b) => a + b, 0);
    let draw = random() * nucleus;
    for (let j = 0; j < cut; j++) {
      draw -= weights[j]!;
      if (draw < 0) return kept[j]!;
    }
    return kept[cut - 1]!;
  };
}
