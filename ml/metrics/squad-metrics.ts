/**
 * SQuAD v1.1 scoring, as its official evaluation computes it: answers are compared after
 * normalization (lowercase, punctuation removed, the articles a/an/the removed, whitespace
 * collapsed); exact match is equality of the normalized strings, F1 the overlap of their
 * whitespace tokens; each prediction takes its best score over the question's gold answers.
 */

/** The ASCII punctuation the official evaluation removes (Python's string.punctuation). */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
/** An article standing alone, with word boundaries as Python's Unicode `\b` draws them. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
/** The characters Python's str.split() splits on. */
// eslint-disable-next-line no-control-regex -- the separators U+001C-U+001F are whitespace to Python
const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** An answer as the official evaluation compares it. */
export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase();
  const unpunctuated = [...lower].filter((c) => !PUNCTUATION.has(c)).join('');
  return answerTokens(unpunctuated.replace(ARTICLES, ' ')).join(' ');
}

function answerTokens(text: string): string[] {
  return text.split(WHITESPACE).filter((t) => t.length > 0);
}

/** 1 when the normalized prediction equals the normalized gold answer, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** The F1 of the normalized answers' token multisets. */
export function tokenF1(prediction: string, gold: string): number {
  const predicted = answerTokens(normalizeAnswer(prediction));
  const truth = answerTokens(normalizeAnswer(gold));
  const counts = new Map<string, number>();
  for (const t of truth) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of predicted) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      same++;
      counts.set(t, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predicted.length;
  const recall = same / truth.length;
  return (2 * precision * recall) / (precision + recall);
}

/** One question's predicted answer and its gold answers. */
export interface ScoredAnswer {
  readonly prediction: string;
  readonly golds: readonly string[];
}

export interface SquadScores {
  /** Mean exact match over the questions, 0–1 (the official script prints it ×100). */
  readonly exactMatch: number;
  /** Mean F1 over the questions, 0–1. */
  readonly f1: number;
  readonly questions: number;
}

/** Exact match and F1 over questions, each the best over its gold answers. */
export function squadScores(answers: readonly ScoredAnswer[]): SquadScores {
  let em = 0;
  let f1 = 0;
  for (const { prediction, golds } of answers) {
    em += Math.max(0, ...golds.map((g) => exactMatch(prediction, g)));
    f1 += Math.max(0, ...golds.map((g) => tokenF1(prediction, g)));
  }
  const n = answers.length;
  return { exactMatch: n === 0 ? 0 : em / n, f1: n === 0 ? 0 : f1 / n, questions: n };
}
