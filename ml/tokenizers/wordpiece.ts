import { normalizeBert, splitBertWords, type AlignedChar } from './bert-normalize';
import type { TextTokenizer } from './text-tokenizer';
import { failureClass } from '../../core/failures';

/** Special tokens a WordPiece vocabulary must hold. */
export const WORDPIECE_SPECIALS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const;

export interface WordPieceConfig {
  /** Token strings by id. */
  readonly vocab: readonly string[];
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly continuingPrefix: string;
  readonly maxCharsPerWord: number;
}

/** Tokens of one text: ids, their strings, and [start, end) character offsets into the original text. */
export interface Encoding {
  readonly ids: number[];
  readonly tokens: string[];
  readonly offsets: [number, number][];
}

/** Raised when a vocabulary lacks a token the tokenizer needs. */
export class VocabularyError extends failureClass('VocabularyError') {}

/** BERT-style WordPiece: normalize, split into words, then greedy longest-match-first sub-words. */
export class WordPieceTokenizer implements TextTokenizer {
  private readonly ids: Map<string, number>;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

  constructor(readonly config: WordPieceConfig) {
    this.ids = new Map(config.vocab.map((token, id) => [token, id]));
    const need = (token: string) => {
      const id = this.ids.get(token);
      if (id === undefined) throw new VocabularyError(`the vocabulary has no ${token} token`);
      return id;
    };
    this.unkId = need(WORDPIECE_SPECIALS.unk);
    this.clsId = need(WORDPIECE_SPECIALS.cls);
    this.sepId = need(WORDPIECE_SPECIALS.sep);
    this.padId = need(WORDPIECE_SPECIALS.pad);
  }

  get startId(): number {
    return this.clsId;
  }

  get endId(): number {
    return this.sepId;
  }

  get vocabSize(): number {
    return this.config.vocab.length;
  }

  /** Sub-word tokens of one text, without special tokens. */
  encode(text: string): Encoding {
    const encoding: Encoding = { ids: [], tokens: [], offsets: [] };
    const chars = normalizeBert(text, this.config);
    for (const word of splitBertWords(chars)) this.encodeWord(word.chars, encoding);
    return encoding;
  }

  /** `[CLS] tokens [SEP]`, as BERT's post-processor adds them (special tokens get offsets [0, 0]). */
  encodeWithSpecialTokens(text: string): Encoding {
    const inner = this.encode(text);
    return {
      ids: [this.clsId, ...inner.ids, this.sepId],
      tokens: [WORDPIECE_SPECIALS.cls, ...inner.tokens, WORDPIECE_SPECIALS.sep],
      offsets: [[0, 0], ...inner.offsets, [0, 0]],
    };
  }

  /** Appends the sub-words of one pre-tokenized word. */
  encodeWord(chars: readonly AlignedChar[], into: Encoding): void {
    const wordStart = chars[0]!.start;
    const wordEnd = chars[chars.length - 1]!.end;
    if (chars.length > this.config.maxCharsPerWord) {
      this.push(into, this.unkId, [wordStart, wordEnd]);
      return;
    }
    const pieces: { id: number; start: number; end: number }[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        let piece = '';
        for (let i = start; i < end; i++) piece += chars[i]!.ch;
        if (start > 0) piece = this.config.continuingPrefix + piece;
        found = this.ids.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        this.push(into, this.unkId, [wordStart, wordEnd]);
        return;
      }
      pieces.push({ id: found, start: chars[start]!.start, end: chars[end - 1]!.end });
      start = end;
    }
    for (const p of pieces) this.push(into, p.id, [p.start, p.end]);
  }

  private push(into: Encoding, id: number, offsets: [number, number]): void {
    into.ids.push(id);
    into.tokens.push(this.config.vocab[id]!);
    into.offsets.push(offsets);
  }
}
