import type * as Tf from '@tensorflow/tfjs';
import type { EncoderModel } from '../models/encoder-model';
import { bannedTokens } from './banned-tokens';
import { banRules, type DecodingOptions } from './decoding-run';
import { IncrementalDecoder } from './incremental-decoder';

/** How beam search ranks and keeps hypotheses. */
export interface BeamOptions {
  /** Hypotheses kept per source at every step (at least 2; 1 is greedy decoding). */
  readonly beams: number;
  /**
   * A finished hypothesis scores its summed token log-probabilities divided by its length (its
   * tokens and the stop token) to this power: above 0 favours longer replies, 0 ranks by the sum.
   */
  readonly lengthPenalty: number;
}

interface Hypothesis {
  readonly tokens: readonly number[];
  /** Summed log-probabilities of its tokens. */
  readonly logProbability: number;
}

interface Candidate {
  readonly beam: number;
  readonly token: number;
  readonly logProbability: number;
}

/** Log-softmax of one row of logits, in place of a copy. */
function logSoftmax(logits: Float32Array): Float32Array {
  let top = -Infinity;
  for (const x of logits) if (x > top) top = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - top);
  const shift = top + Math.log(sum);
  return logits.map((x) => x - shift);
}

/** The `count` best candidates, best first, by summed log-probability (ties: the lower beam, then the lower token). */
function bestCandidates(
  beams: readonly Hypothesis[],
  logProbabilities: readonly Float32Array[],
  banned: readonly ReadonlySet<number>[],
  count: number,
): Candidate[] {
  const kept: Candidate[] = [];
  beams.forEach((beam, b) => {
    if (beam.logProbability === -Infinity) return;
    const row = logProbabilities[b]!;
    for (let token = 0; token < row.length; token++) {
      const logProbability = beam.logProbability + row[token]!;
      if (kept.length === count && logProbability <= kept[count - 1]!.logProbability) continue;
      if (banned[b]!.has(token)) continue;
      let at = kept.length;
      while (at > 0 && kept[at - 1]!.logProbability < logProbability) at--;
      kept.splice(at, 0, { beam: b, token, logProbability });
      if (kept.length > count) kept.pop();
    }
  });
  return kept;
}

/**
 * Beam search: per source, the `beams` likeliest partial replies are extended by every token at
 * each step and the `beams` likeliest extensions kept (the key/value cache reordered to follow
 * them); an extension by the stop token among the best `beams` candidates is a finished
 * hypothesis. A source is done once it has `beams` finished hypotheses and its best running one,
 * scored at its present length, cannot beat the worst of them, or at the token limit (then the
 * running ones count as finished). Returns the best-scoring reply per source, without the stop
 * token. The n-gram and minimum-length rules of `options` hold in every hypothesis; sampling does not apply.
 */
export function beamSearch(
  tf: typeof Tf,
  model: EncoderModel,
  sources: readonly (readonly number[])[],
  options: DecodingOptions & BeamOptions,
): number[][] {
  const { beams: width, lengthPenalty, stopId } = options;
  if (!Number.isInteger(width) || width < 2) throw new RangeError(`beam search needs at least 2 beams, not ${width}`);
  const score = (h: Hypothesis, length: number) => h.logProbability / Math.pow(length, lengthPenalty);
  const rules = banRules(options);
  const decoder = new IncrementalDecoder(tf, model, sources, options.padId, options.useCache ?? true, width);
  try {
    // At first only beam 0 of each source runs: all would extend the same empty reply.
    let running: Hypothesis[][] = sources.map(() =>
      Array.from({ length: width }, (_, b) => ({ tokens: [], logProbability: b === 0 ? 0 : -Infinity })),
    );
    const finished: { tokens: readonly number[]; score: number }[][] = sources.map(() => []);
    const done = sources.map(() => false);
    let last = Array<number>(sources.length * width).fill(options.startId);
    for (let step = 0; !done.every(Boolean); step++) {
      const logits = decoder.step(last);
      const values = logits.dataSync() as Float32Array;
      logits.dispose();
      const vocabulary = values.length / last.length;
      const atLimit = step + 1 >= options.maxNewTokens || decoder.room <= 0;
      const parents: number[] = [];
      const next: number[] = [];
      running = running.map((beams, s) => {
        const rows = beams.map((_, b) => s * width + b);
        if (done[s]) {
          for (const row of rows) {
            parents.push(row);
            next.push(last[row]!);
          }
          return beams;
        }
        const candidates = bestCandidates(
          beams,
          rows.map((row) => logSoftmax(values.subarray(row * vocabulary, (row + 1) * vocabulary))),
          beams.map((beam) => bannedTokens(beam.tokens, rules)),
          2 * width,
        );
        const kept: Hypothesis[] = [];
        candidates.forEach((c, rank) => {
          const tokens = [...beams[c.beam]!.tokens, ...(c.token === stopId ? [] : [c.token])];
          const hypothesis = { tokens, logProbability: c.logProbability };
          if (c.token === stopId) {
            if (rank < width) finished[s]!.push({ tokens, score: score(hypothesis, tokens.length + 1) });
          } else if (kept.length < width) {
            kept.push(hypothesis);
            parents.push(rows[c.beam]!);
            next.push(c.token);
          }
        });
        // Fewer allowed candidates than beams (a tiny vocabulary): the missing beams stay empty.
        while (kept.length < width) {
          kept.push({ tokens: [], logProbability: -Infinity });
          parents.push(rows[0]!);
          next.push(stopId);
        }
        const ended = finished[s]!;
        const worst = Math.min(...ended.map((h) => h.score));
        const bestRunning = kept[0]!.logProbability === -Infinity ? -Infinity : score(kept[0]!, step + 1);
        if (atLimit || (ended.length >= width && bestRunning <= worst) || bestRunning === -Infinity) {
          if (atLimit)
            kept
              .filter((h) => h.logProbability > -Infinity)
              .forEach((h) => ended.push({ tokens: h.tokens, score: score(h, h.tokens.length) }));
          done[s] = true;
        }
        return kept;
      });
      if (done.every(Boolean)) break;
      decoder.reorder(parents);
      last = next;
    }
    return finished.map((ended) =>
      ended.length === 0 ? [] : [...ended.reduce((a, b) => (b.score > a.score ? b : a)).tokens],
    );
  } finally {
    decoder.dispose();
  }
}
