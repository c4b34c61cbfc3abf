import type { Encoding } from './wordpiece';

/** What steps need of any tokenizer. */
export interface TextTokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  /** Ids of the tokens that open and close a sequence, kept when truncating. */
  readonly startId?: number;
  readonly endId?: number;
  /** Id of the unknown token, or -1 when nothing is unknown (byte-level BPE). */
  readonly unkId: number;
  encode(text: string): Encoding;
  encodeWithSpecialTokens(text: string): Encoding;
}
