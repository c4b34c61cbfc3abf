import { normalizeBert, splitBertWords } from './bert-normalize';
import type { Encoding, WordPieceTokenizer } from './wordpiece';

/** Label id that losses ignore: sub-tokens after a word's first, and special tokens. */
export const IGNORED_LABEL = -100;

export interface WordEncoding extends Encoding {
  /** The word each token came from, or -1 for special tokens. */
  readonly wordIds: number[];
  /** Each token's tag id: the word's tag on its first sub-token, IGNORED_LABEL elsewhere. */
  readonly tagIds: number[];
}

/**
 * Encodes pre-split words (as token-classification data comes) and aligns word-level tags:
 * the first sub-token of a word carries its tag, the others are ignored in the loss. Offsets point
 * into the words joined with single spaces.
 */
export function encodeTaggedWords(
  tokenizer: WordPieceTokenizer,
  words: readonly string[],
  tagIds: readonly number[],
): WordEncoding {
  const out: WordEncoding = {
    ids: [tokenizer.clsId],
    tokens: ['[CLS]'],
    offsets: [[0, 0]],
    wordIds: [-1],
    tagIds: [IGNORED_LABEL],
  };
  let base = 0;
  words.forEach((word, w) => {
    const piece: Encoding = { ids: [], tokens: [], offsets: [] };
    for (const part of splitBertWords(normalizeBert(word, tokenizer.config))) tokenizer.encodeWord(part.chars, piece);
    piece.ids.forEach((id, i) => {
      out.ids.push(id);
      out.tokens.push(piece.tokens[i]!);
      out.offsets.push([piece.offsets[i]![0] + base, piece.offsets[i]![1] + base]);
      out.wordIds.push(w);
      out.tagIds.push(i === 0 ? tagIds[w]! : IGNORED_LABEL);
    });
    base += word.length + 1;
  });
  out.ids.push(tokenizer.sepId);
  out.tokens.push('[SEP]');
  out.offsets.push([0, 0]);
  out.wordIds.push(-1);
  out.tagIds.push(IGNORED_LABEL);
  return out;
}

/** One model input for extractive QA: `[CLS] question [SEP] context window [SEP]`. */
export interface QaWindow {
  readonly inputIds: number[];
  /** 0 for the question part, 1 for the context part. */
  readonly tokenTypeIds: number[];
  /** Character offsets into the context for context tokens, [-1, -1] elsewhere. */
  readonly contextOffsets: [number, number][];
  /** Token positions of the answer in this window, or 0 and 0 ([CLS]) when the answer is not inside it. */
  readonly startPosition: number;
  readonly endPosition: number;
}

export interface QaEncodingOptions {
  readonly maxLength: number;
  /** Context tokens shared by consecutive windows. */
  readonly stride: number;
}

/**
 * Pairs a question with its context, cutting long contexts into overlapping windows, and maps the
 * answer's character span to token positions in every window that contains all of it.
 */
export function encodeQuestionContext(
  tokenizer: WordPieceTokenizer,
  question: string,
  context: string,
  answer: { start: number; text: string } | undefined,
  options: QaEncodingOptions,
): QaWindow[] {
  const q = tokenizer.encode(question);
  const c = tokenizer.encode(context);
  const room = options.maxLength - q.ids.length - 3;
  if (room < 1)
    throw new RangeError(
      `the question takes ${q.ids.length} tokens, leaving no room for context in max_length ${options.maxLength}`,
    );
  if (options.stride >= room)
    throw new RangeError(
      `stride ${options.stride} must be smaller than the ${room} context tokens that fit in a window`,
    );
  const answerEnd = answer ? answer.start + answer.text.length : -1;
  const windows: QaWindow[] = [];
  for (let start = 0; ; start += room - options.stride) {
    const end = Math.min(start + room, c.ids.length);
    const head = [tokenizer.clsId, ...q.ids, tokenizer.sepId];
    const inputIds = [...head, ...c.ids.slice(start, end), tokenizer.sepId];
    const tokenTypeIds = inputIds.map((_, i) => (i < head.length ? 0 : 1));
    const contextOffsets: [number, number][] = inputIds.map((_, i) =>
      i >= head.length && i < head.length + end - start ? c.offsets[start + i - head.length]! : [-1, -1],
    );
    let startPosition = 0;
    let endPosition = 0;
    if (answer) {
      const first = contextOffsets.findIndex(([s, e]) => s >= 0 && e > answer.start);
      let last = -1;
      contextOffsets.forEach(([s], i) => {
        if (s >= 0 && s < answerEnd) last = i;
      });
      const inside =
        first >= 0 &&
        last >= first &&
        contextOffsets[first]![0] <= answer.start &&
        contextOffsets[last]![1] >= answerEnd;
      if (inside) {
        startPosition = first;
        endPosition = last;
      }
    }
    windows.push({ inputIds, tokenTypeIds, contextOffsets, startPosition, endPosition });
    if (end >= c.ids.length) break;
  }
  return windows;
}

/**
 * The tag names seen in training data, with every IOB2 pair completed: a B-X brings I-X and an
 * I-X brings B-X, so an entity type the data only shows as one word can still be tagged (and
 * scored) across several. Sorted.
 */
export function completeTagSet(seen: Iterable<string>): string[] {
  const tags = new Set(seen);
  for (const tag of [...tags]) {
    const match = /^([BI])-(.+)$/.exec(tag);
    if (match) tags.add(`${match[1] === 'B' ? 'I' : 'B'}-${match[2]}`);
  }
  return [...tags].sort();
}
