/** A word split into symbols, and how often it occurs. */
export interface SymbolWord {
  symbols: string[];
  readonly count: number;
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
 * Byte-pair merging: repeatedly joins the most frequent adjacent pair of symbols (ties broken by
 * the pair's text, so runs are reproducible) until `budget` new symbols exist or no pair occurs
 * `minFrequency` times. Returns the merges in order; `words` are rewritten in place.
 */
export function learnMerges(
  words: SymbolWord[],
  budget: number,
  minFrequency: number,
  join: (left: string, right: string) => string,
): { left: string; right: string; merged: string }[] {
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const adjust = (w: number, delta: number) => {
    const { symbols, count } = words[w]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i]! + SEP + symbols[i + 1]!;
      const total = (pairCount.get(key) ?? 0) + delta * count;
      pairCount.set(key, total);
      if (delta > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
        heap.push({ count: total, key });
      }
    }
  };
  words.forEach((_, w) => adjust(w, 1));
  const merges: { left: string; right: string; merged: string }[] = [];
  const made = new Set<string>();
  while (made.size < budget) {
    const top = heap.pop();
    if (!top) break;
    if (pairCount.get(top.key) !== top.count) continue;
    if (top.count < minFrequency) break;
    const [left, right] = top.key.split(SEP) as [string, string];
    const merged = join(left, right);
    merges.push({ left, right, merged });
    made.add(merged);
    for (const w of pairWords.get(top.key) ?? []) {
      adjust(w, -1);
      const s = words[w]!.symbols;
      const next: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(s[i]!);
        }
      }
      words[w]!.symbols = next;
      adjust(w, 1);
    }
    pairWords.delete(top.key);
  }
  return merges;
}
