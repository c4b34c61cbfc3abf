/**
 * Scores of generated texts against one reference each, defined as sacreBLEU 2.x defines them
 * (its defaults), so the numbers can be compared with published ones: BLEU-4 on 13a tokens with
 * exponential smoothing, chrF (character 6-grams, β = 2, whitespace ignored), both 0–100 and
 * corpus-level; and distinct-n, the share of unique n-grams among all n-grams generated.
 */

/** What Python's str.split() splits on (\s in JavaScript differs: U+FEFF is in, U+001C–U+001F are out). */
// eslint-disable-next-line no-control-regex -- Python counts U+001C–U+001F as whitespace, so must we.
const PYTHON_WHITESPACE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

function splitWords(text: string): string[] {
  return text.split(PYTHON_WHITESPACE).filter((word) => word !== '');
}

/**
 * The tokens of a text as mteval-v13a (WMT's reference BLEU script) makes them: a few entities
 * decoded, ASCII punctuation and symbols split off, periods and commas split off unless between
 * digits, a dash after a digit split off.
 */
export function tokenize13a(text: string): string[] {
  let line = text.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (line.includes('&'))
    line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  line = ` ${line} `
    .replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ')
    .replace(/([^0-9])([.,])/g, '$1 $2 ')
    .replace(/([.,])([^0-9])/g, ' $1 $2')
    .replace(/([0-9])(-)/g, '$1 $2 ');
  return splitWords(line);
}

/** Counts of the n-grams of a sequence (words joined by a space, or characters). */
function nGrams(items: readonly string[], n: number, joiner: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= items.length; i++) {
    const gram = items.slice(i, i + n).join(joiner);
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}

/** Hypothesis n-grams that the reference also has, each counted at most as often as the reference has it. */
function clippedMatches(hypothesis: ReadonlyMap<string, number>, reference: ReadonlyMap<string, number>): number {
  let matches = 0;
  for (const [gram, count] of hypothesis) matches += Math.min(count, reference.get(gram) ?? 0);
  return matches;
}

export interface BleuScore {
  /** 0–100. */
  readonly score: number;
  /** Modified n-gram precisions, 1- to 4-grams, 0–100 (smoothed where nothing matched). */
  readonly precisions: readonly number[];
  readonly brevityPenalty: number;
  /** Tokens of all hypotheses and of all references. */
  readonly hypothesisLength: number;
  readonly referenceLength: number;
}

const BLEU_ORDER = 4;

function checkPairs(hypotheses: readonly string[], references: readonly string[]): void {
  if (hypotheses.length !== references.length)
    throw new RangeError(`${hypotheses.length} hypotheses for ${references.length} references`);
}

/**
 * Corpus BLEU-4: n-gram matches and counts summed over all pairs, the geometric mean of the four
 * precisions times the brevity penalty. An order with no match gets precision 100 / (2^k · count)
 * for its k-th such order (mteval's smoothing); no match at all is 0.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly string[]): BleuScore {
  checkPairs(hypotheses, references);
  const correct = new Array<number>(BLEU_ORDER).fill(0);
  const counted = new Array<number>(BLEU_ORDER).fill(0);
  let hypothesisLength = 0;
  let referenceLength = 0;
  hypotheses.forEach((hypothesis, i) => {
    const hyp = tokenize13a(hypothesis);
    const ref = tokenize13a(references[i]!);
    hypothesisLength += hyp.length;
    referenceLength += ref.length;
    for (let n = 1; n <= BLEU_ORDER; n++) {
      const grams = nGrams(hyp, n, ' ');
      correct[n - 1]! += clippedMatches(grams, nGrams(ref, n, ' '));
      counted[n - 1]! += total(grams);
    }
  });
  const brevityPenalty =
    hypothesisLength >= referenceLength
      ? 1
      : hypothesisLength > 0
        ? Math.exp(1 - referenceLength / hypothesisLength)
        : 0;
  const precisions = new Array<number>(BLEU_ORDER).fill(0);
  const result = (score: number) => ({ score, precisions, brevityPenalty, hypothesisLength, referenceLength });
  if (correct.every((c) => c === 0)) return result(0);
  let smoothing = 1;
  for (let n = 0; n < BLEU_ORDER && counted[n]! > 0; n++) {
    if (correct[n] === 0) {
      smoothing *= 2;
      precisions[n] = 100 / (smoothing * counted[n]!);
    } else {
      precisions[n] = (100 * correct[n]!) / counted[n]!;
    }
  }
  // An order with no n-gram at all stays 0: its log is floored, so the score is 0.
  const logSum = precisions.reduce((sum, p) => sum + (p === 0 ? -9999999999 : Math.log(p)), 0);
  return result(brevityPenalty * Math.exp(logSum / BLEU_ORDER));
}

const CHRF_ORDER = 6;
const CHRF_BETA = 2;

/**
 * Corpus chrF: character n-gram (1–6, whitespace removed) counts and matches summed over all
 * pairs; precision and recall averaged over the orders both sides have n-grams of, combined as
 * F-β with β = 2 (recall weighs more).
 */
export function corpusChrf(hypotheses: readonly string[], references: readonly string[]): number {
  checkPairs(hypotheses, references);
  const stats = Array.from({ length: CHRF_ORDER }, () => ({ hyp: 0, ref: 0, match: 0 }));
  hypotheses.forEach((hypothesis, i) => {
    // Python indexes strings by code point: so do these n-grams.
    const hyp = Array.from(splitWords(hypothesis).join(''));
    const ref = Array.from(splitWords(references[i]!).join(''));
    for (let n = 1; n <= CHRF_ORDER; n++) {
      const hypGrams = nGrams(hyp, n, '');
      const refGrams = nGrams(ref, n, '');
      const refCount = total(refGrams);
      // Hypothesis n-grams count only where the reference has n-grams of that order.
      stats[n - 1]!.hyp += refCount > 0 ? total(hypGrams) : 0;
      stats[n - 1]!.ref += refCount;
      stats[n - 1]!.match += clippedMatches(hypGrams, refGrams);
    }
  });
  let precision = 0;
  let recall = 0;
  let orders = 0;
  for (const { hyp, ref, match } of stats) {
    if (hyp === 0 || ref === 0) continue;
    precision += match / hyp;
    recall += match / ref;
    orders++;
  }
  if (orders === 0) return 0;
  precision /= orders;
  recall /= orders;
  const factor = CHRF_BETA ** 2;
  if (precision + recall === 0) return 0;
  // In sacreBLEU's order of operations, so the floating-point result is the same.
  return (((1 + factor) * precision * recall) / (factor * precision + recall)) * 100;
}

/** distinct-n: unique n-grams over all n-grams of the texts' 13a tokens (0 when there are none). */
export function distinctNGrams(texts: readonly string[], n: number): number {
  const seen = new Set<string>();
  let count = 0;
  for (const text of texts) {
    for (const [gram, times] of nGrams(tokenize13a(text), n, ' ')) {
      seen.add(gram);
      count += times;
    }
  }
  return count === 0 ? 0 : seen.size / count;
}
