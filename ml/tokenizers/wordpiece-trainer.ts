import { normalizeBert, splitBertWords, type BertNormalization } from './bert-normalize';
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

interface Entry {
  readonly count: number;
  readonly key: string;
}

/** Max-heap by count, ties broken by key so training is deterministic. */
class PairHeap {
  private readonly items: Entry[] = [];
  push(entry: Entry): void {
    this.items.push(entry);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.items[i]!, this.items[parent]!)) break;
      [this.items[i], this.items[parent]] = [this.items[parent]!, this.items[i]!];
      i = parent;
    }
  }
  pop(): Entry | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last) {
      this.items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.items.length && this.before(this.items[l]!, this.items[best]!)) best = l;
        if (r < this.items.length && this.before(this.items[r]!, this.items[best]!)) best = r;
        if (best === i) break;
        [this.items[i], this.items[best]] = [this.items[best]!, this.items[i]!];
        i = best;
      }
    }
    return top;
  }
  private before(a: Entry, b: Entry): boolean {
    return a.count > b.count || (a.count === b.count && a.key < b.key);
  }
}

const SEP = '\u0000';

/**
 * Learns a WordPiece vocabulary: start from single characters (`##` marks characters inside a
 * word), then repeatedly merge the most frequent adjacent pair until the vocabulary is full.
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
  const words = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const symbols = words.map(([word]) => [...word].map((ch, i) => (i === 0 ? ch : prefix + ch)));
  const freq = words.map(([, n]) => n);
  [...new Set(symbols.flat())].sort().forEach(add);

  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const adjust = (w: number, delta: number) => {
    const s = symbols[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! + SEP + s[i + 1]!;
      const count = (pairCount.get(key) ?? 0) + delta * freq[w]!;
      pairCount.set(key, count);
      if (delta > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
        heap.push({ count, key });
      }
    }
  };
  symbols.forEach((_, w) => adjust(w, 1));

  while (vocab.length < options.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    if (pairCount.get(top.key) !== top.count) continue;
    if (top.count < options.minFrequency) break;
    const [left, right] = top.key.split(SEP) as [string, string];
    const merged = left + (right.startsWith(prefix) ? right.slice(prefix.length) : right);
    add(merged);
    for (const w of pairWords.get(top.key) ?? []) {
      adjust(w, -1);
      const s = symbols[w]!;
      const next: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(s[i]!);
        }
      }
      symbols[w] = next;
      adjust(w, 1);
    }
    pairWords.delete(top.key);
  }
  return vocab;
}
