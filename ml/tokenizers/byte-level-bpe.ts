import type { Encoding } from './wordpiece';

/** GPT-2's pre-tokenization: contractions, letter runs, digit runs, other symbols, each with its leading space. */
export const BYTE_LEVEL_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Each byte as a printable character, as GPT-2 does, so every token is a plain string. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  return map;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));
const encoder = new TextEncoder();

export interface ByteLevelBpeConfig {
  readonly vocab: readonly string[];
  /** Merges in the order they were learned: `left right`. */
  readonly merges: readonly (readonly [string, string])[];
}

/** Byte-level BPE: any text encodes without unknown tokens, and decoding gives the text back. */
export class ByteLevelBpeTokenizer {
  private readonly ids: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  constructor(readonly config: ByteLevelBpeConfig) {
    this.ids = new Map(config.vocab.map((token, id) => [token, id]));
    this.ranks = new Map(config.merges.map(([a, b], rank) => [`${a} ${b}`, rank]));
  }

  get vocabSize(): number {
    return this.config.vocab.length;
  }

  /** Token ids with [start, end) UTF-16 offsets into `text`. */
  encode(text: string): Encoding {
    const out: Encoding = { ids: [], tokens: [], offsets: [] };
    for (const match of text.matchAll(BYTE_LEVEL_PATTERN)) {
      const piece = match[0];
      const base = match.index;
      // For byte k of the piece's UTF-8: where its character starts and ends in UTF-16 units. A token
      // holding only some bytes of a character spans the whole character.
      const bytes = encoder.encode(piece);
      const charStart = new Int32Array(bytes.length);
      const charEnd = new Int32Array(bytes.length);
      let k = 0;
      for (let i = 0; i < piece.length;) {
        const cp = piece.codePointAt(i)!;
        const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        const units = cp > 0xffff ? 2 : 1;
        for (let j = 0; j < width; j++, k++) {
          charStart[k] = i;
          charEnd[k] = i + units;
        }
        i += units;
      }
      let byte = 0;
      for (const token of this.bpe(Array.from(bytes, (b) => BYTE_TO_CHAR[b]!).join(''))) {
        const id = this.ids.get(token);
        if (id === undefined)
          throw new Error(`byte-level BPE vocabulary lacks "${token}"; it must hold all 256 byte symbols`);
        out.ids.push(id);
        out.tokens.push(token);
        out.offsets.push([base + charStart[byte]!, base + charEnd[byte + token.length - 1]!]);
        byte += token.length;
      }
    }
    return out;
  }

  /** The text of some token ids. */
  decode(ids: readonly number[]): string {
    const bytes = ids.flatMap((id) => [...(this.config.vocab[id] ?? '')].map((ch) => CHAR_TO_BYTE.get(ch) ?? 0));
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }

  /** Applies merges by rank, lowest first, to one pre-token's byte symbols. */
  private bpe(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let parts = [...word];
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rank = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [left, right] = [parts[best]!, parts[best + 1]!];
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === left && parts[i + 1] === right) {
          next.push(left + right);
          i++;
        } else {
          next.push(parts[i]!);
        }
      }
      parts = next;
    }
    if (this.cache.size < 100_000) this.cache.set(word, parts);
    return parts;
  }
}
