import { normalizeBert, splitBertWords, type BertNormalization } from './bert-normalize';
import { learnMerges, type SymbolWord } from './merge-learner';
import { WORDPIECE_SPECIALS } from './wordpiece';

export interface WordPieceTraining extends BertNormalization {
  readonly vocabSize: number;
  /** Pairs seen fewer times than this are never merged. */
  readonly minFrequency: number;
  readonly continuingPrefix?: string;
}

/** Counts BERT pre-tokenized words; feed it texts one by one, then train. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  constructor(private readonly normalization: BertNormalization) {}

  add(text: string): void {
    for (const word of splitBertWords(normalizeBert(text, this.normalization))) {
      const key = word.chars.map((c) => c.ch).join('');
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }
}

/**
 * Learns a WordPiece vocabulary: start from single characters (`##` marks characters inside a
 * word), then merge the most frequent adjacent pairs until the vocabulary is full.
 */
export function trainWordPiece(counts: ReadonlyMap<string, number>, options: WordPieceTraining): string[] {
  const prefix = options.continuingPrefix ?? '##';
  const vocab: string[] = [
    WORDPIECE_SPECIALS.pad,
    WORDPIECE_SPECIALS.unk,
    WORDPIECE_SPECIALS.cls,
    WORDPIECE_SPECIALS.sep,
    WORDPIECE_SPECIALS.mask,
  ];
  const known = new Set(vocab);
  const add = (token: string) => {
    if (!known.has(token)) {
      known.add(token);
      vocab.push(token);
    }
  };
  const words: SymbolWord[] = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([word, count]) => ({ symbols: [...word].map((ch, i) => (i === 0 ? ch : prefix + ch)), count }));
  [...new Set(words.flatMap((w) => w.symbols))].sort().forEach(add);
  const join = (left: string, right: string) => left + (right.startsWith(prefix) ? right.slice(prefix.length) : right);
  for (const { merged } of learnMerges(
    words,
    Math.max(0, options.vocabSize - vocab.length),
    options.minFrequency,
    join,
  ))
    add(merged);
  return vocab;
}
