/**
 * From span logits to answers, as extractive QA is usually post-processed: in every window of a
 * context, the n best start and the n best end positions are paired; a pair counts when both lie
 * in the context part of the window, the end is not before the start, and the answer is at most
 * `maxAnswerLength` tokens; its score is the start logit plus the end logit. The example's answers
 * are the best pairs over all its windows, mapped back to character offsets in the context.
 */

export interface SpanOptions {
  /** Start and end candidates per window, and answers kept per example. */
  readonly nBest: number;
  /** The longest answer, in tokens. */
  readonly maxAnswerLength: number;
}

/** One window's scores and where its tokens are in the context. */
export interface WindowLogits {
  readonly start: ArrayLike<number>;
  readonly end: ArrayLike<number>;
  /** Per token, its [start, end) character offsets in the context; negative outside the context. */
  readonly contextStart: readonly number[];
  readonly contextEnd: readonly number[];
}

/** A candidate answer: [start, end) in the context, its text and score, and its probability among the kept ones. */
export interface AnswerSpan {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Start logit plus end logit. */
  readonly score: number;
  /** Softmax of the scores over the example's kept candidates. */
  readonly probability: number;
}

type Candidate = Omit<AnswerSpan, 'probability' | 'text'>;

/** The `n` positions of the highest values among the first `length`, best first. */
function topPositions(values: ArrayLike<number>, length: number, n: number): number[] {
  return Array.from({ length }, (_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || a - b)
    .slice(0, n);
}

/** A window's valid start/end pairs among its n best starts and ends. */
export function windowCandidates(window: WindowLogits, options: SpanOptions): Candidate[] {
  const length = Math.min(window.start.length, window.contextStart.length);
  const inContext = (i: number) => window.contextStart[i]! >= 0 && window.contextEnd[i]! >= 0;
  const out: Candidate[] = [];
  const ends = topPositions(window.end, length, options.nBest);
  for (const s of topPositions(window.start, length, options.nBest)) {
    if (!inContext(s)) continue;
    for (const e of ends) {
      if (!inContext(e) || e < s || e - s + 1 > options.maxAnswerLength) continue;
      out.push({
        start: window.contextStart[s]!,
        end: window.contextEnd[e]!,
        score: window.start[s]! + window.end[e]!,
      });
    }
  }
  return out;
}

/**
 * The example's best answers, best first, from the candidates of all its windows (a span found in
 * two overlapping windows counts once, with its better score). No candidate: an empty answer.
 */
export function bestAnswers(candidates: readonly Candidate[], context: string, options: SpanOptions): AnswerSpan[] {
  const bySpan = new Map<string, Candidate>();
  for (const c of candidates) {
    const key = `${c.start}:${c.end}`;
    const seen = bySpan.get(key);
    if (!seen || c.score > seen.score) bySpan.set(key, c);
  }
  const kept = [...bySpan.values()].sort((a, b) => b.score - a.score || a.start - b.start).slice(0, options.nBest);
  if (kept.length === 0) return [{ text: '', start: 0, end: 0, score: 0, probability: 1 }];
  const top = kept[0]!.score;
  const weights = kept.map((c) => Math.exp(c.score - top));
  const total = weights.reduce((a, b) => a + b, 0);
  return kept.map((c, i) => ({ ...c, text: context.slice(c.start, c.end), probability: weights[i]! / total }));
}
