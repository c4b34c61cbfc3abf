import { BYTE_LEVEL_PATTERN, BYTE_TO_CHAR, type ByteLevelBpeConfig } from './byte-level-bpe';
import { learnMerges, type SymbolWord } from './merge-learner';

export interface ByteLevelBpeTraining {
  readonly vocabSize: number;
  readonly minFrequency: number;
  /** Tokens placed first in the vocabulary, e.g. `<|endoftext|>` or `<pad>`. */
  readonly specialTokens: readonly string[];
}

const encoder = new TextEncoder();

/** Counts byte-level pre-tokens of texts, for training. */
export class PreTokenCounter {
  readonly counts = new Map<string, number>();

  add(text: string): void {
    for (const match of text.matchAll(BYTE_LEVEL_PATTERN)) {
      const key = Array.from(encoder.encode(match[0]), (b) => BYTE_TO_CHAR[b]!).join('');
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }
}

/** Learns byte-level BPE: the 256 byte symbols, then the most frequent merges up to the vocabulary size. */
export function trainByteLevelBpe(
  counts: ReadonlyMap<string, number>,
  options: ByteLevelBpeTraining,
): ByteLevelBpeConfig {
  const vocab = [...options.specialTokens, ...[...BYTE_TO_CHAR].sort()];
  const words: SymbolWord[] = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([word, count]) => ({ symbols: [...word], count }));
  const merges = learnMerges(
    words,
    Math.max(0, options.vocabSize - vocab.length),
    options.minFrequency,
    (a, b) => a + b,
  );
  return { vocab: [...vocab, ...merges.map((m) => m.merged)], merges: merges.map((m) => [m.left, m.right] as const) };
}
