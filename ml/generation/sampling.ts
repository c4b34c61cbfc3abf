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
  if (options.temperature === 0) return mostLikely;
  const random = seededRandom(options.seed);
  return (logits, banned) => {
    // The candidates are found by selection, never sorted: the draw needs their weights, not their order.
    const tokens = candidates(logits, banned, options.topK);
    let top = -Infinity;
    for (let j = 0; j < tokens.length; j++) top = Math.max(top, logits[tokens[j]!]!);
    const weights = new Float64Array(logits.length);
    let total = 0;
    for (let j = 0; j < tokens.length; j++) {
      const i = tokens[j]!;
      total += weights[i] = Math.exp((logits[i]! - top) / options.temperature);
    }
    const nucleus = options.topP < 1 ? smallestHolding(logits, tokens, weights, options.topP * total) : tokens;
    let mass = total;
    if (nucleus !== tokens) {
      mass = 0;
      for (let j = 0; j < nucleus.length; j++) mass += weights[nucleus[j]!]!;
    }
    let draw = random() * mass;
    for (let j = 0; j < nucleus.length; j++) {
      draw -= weights[nucleus[j]!]!;
      if (draw < 0) return nucleus[j]!;
    }
    return nucleus[nucleus.length - 1]!;
  };
}

/** The most likely token not banned; the first of equals. */
function mostLikely(logits: Float32Array, banned: ReadonlySet<number>): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) if ((best < 0 || logits[i]! > logits[best]!) && !banned.has(i)) best = i;
  return best;
}

/** Whether token a ranks before token b: the higher logit, then the lower id. */
const ranksBefore = (logits: Float32Array, a: number, b: number) =>
  logits[a]! > logits[b]! || (logits[a] === logits[b] && a < b);

/** The tokens not banned, cut to the `topK` that rank first (0: all), in no particular order. */
function candidates(logits: Float32Array, banned: ReadonlySet<number>, topK: number): Int32Array {
  const tokens = new Int32Array(logits.length);
  let n = 0;
  if (banned.size === 0) for (; n < logits.length; n++) tokens[n] = n;
  else {
    // A byte per token: looking each up in the set costs more than the rest of the pick.
    const skip = new Uint8Array(logits.length);
    for (const i of banned) skip[i] = 1;
    for (let i = 0; i < logits.length; i++) if (skip[i] === 0) tokens[n++] = i;
  }
  if (topK <= 0 || topK >= n) return tokens.subarray(0, n);
  // Quickselect: partition until the first k places hold the k that rank first.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const { i, j } = partition(logits, tokens, lo, hi);
    if (topK - 1 <= j) hi = j;
    else if (topK - 1 >= i) lo = i;
    else break;
  }
  return tokens.subarray(0, topK);
}

/**
 * The fewest of `tokens` that rank first and whose weights (by token id) reach `mass`, in no
 * particular order (`tokens` is reordered): a quickselect that weighs each part, not counts it.
 */
function smallestHolding(logits: Float32Array, tokens: Int32Array, weights: Float64Array, mass: number): Int32Array {
  let lo = 0;
  let hi = tokens.length - 1;
  // The mass of tokens[0, lo), all of the nucleus, short of `mass`; the nucleus ends in [lo, hi].
  let held = 0;
  while (lo < hi) {
    const { i, j } = partition(logits, tokens, lo, hi);
    let before = 0;
    for (let t = lo; t <= j; t++) before += weights[tokens[t]!]!;
    if (held + before >= mass) {
      hi = j;
      continue;
    }
    held += before;
    if (i === j + 2) {
      held += weights[tokens[j + 1]!]!;
      if (held >= mass) return tokens.subarray(0, j + 2);
    }
    lo = i;
  }
  return tokens.subarray(0, Math.min(lo + 1, tokens.length));
}

/**
 * Hoare's partition of tokens[lo, hi] around the rank of the middle one: afterwards every token in
 * [lo, j] ranks before every token in [i, hi], and the one between (when i = j + 2) is the pivot.
 */
function partition(logits: Float32Array, tokens: Int32Array, lo: number, hi: number): { i: number; j: number } {
  const pivot = tokens[(lo + hi) >>> 1]!;
  let i = lo;
  let j = hi;
  while (i <= j) {
    while (ranksBefore(logits, tokens[i]!, pivot)) i++;
    while (ranksBefore(logits, pivot, tokens[j]!)) j--;
    if (i <= j) {
      const t = tokens[i]!;
      tokens[i++] = tokens[j]!;
      tokens[j--] = t;
    }
  }
  return { i, j };
}
