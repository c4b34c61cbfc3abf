import type { ArtifactRef } from '../../core/artifacts';
import type { ArtifactDescription, ArtifactStore } from '../../store/artifact-store';
import { ByteLevelBpeTokenizer } from './byte-level-bpe';
import type { TextTokenizer } from './text-tokenizer';
import { WordPieceTokenizer } from './wordpiece';

interface TokenizerFileBase {
  readonly format: 'pipewright-tokenizer';
  readonly version: 1;
  readonly vocab: readonly string[];
  /** Class label names by id, when the tokenized data has labels. */
  readonly labels?: readonly string[];
  /** Word tag names by id, for token classification. */
  readonly tags?: readonly string[];
  /** Question answering: how contexts were cut into windows, so that serving cuts them alike. */
  readonly windows?: { readonly maxLength: number; readonly stride: number };
  /** Sequence to sequence: how many of a dialogue's last turns make the source, so that serving keeps as many. */
  readonly seq2seq?: { readonly contextTurns: number };
}

export interface WordPieceFile extends TokenizerFileBase {
  readonly type: 'wordpiece';
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly continuingPrefix: string;
  readonly maxCharsPerWord: number;
  /** The pretrained checkpoint whose vocabulary this is, as the tokenize step named it. */
  readonly pretrained?: string;
}

export interface ByteLevelBpeFile extends TokenizerFileBase {
  readonly type: 'byte_level_bpe';
  readonly merges: readonly (readonly [string, string])[];
}

/** A tokenizer as stored in the artifact store: the vocabulary, its settings, and the label names. */
export type TokenizerFile = WordPieceFile | ByteLevelBpeFile;

/** Special tokens of byte-level BPE vocabularies that Pipewright trains: padding and end of text. */
export const BPE_SPECIALS = { pad: '<pad>', eos: '<|endoftext|>' } as const;

/** Builds the tokenizer a file describes. */
export function tokenizerFromFile(file: TokenizerFile): TextTokenizer {
  if (file.type === 'wordpiece') return new WordPieceTokenizer(file);
  const bpe = new ByteLevelBpeTokenizer(file);
  const id = (token: string) => Math.max(0, file.vocab.indexOf(token));
  const endId = file.vocab.indexOf(BPE_SPECIALS.eos);
  return {
    vocabSize: bpe.vocabSize,
    padId: id(BPE_SPECIALS.pad),
    ...(endId >= 0 && { endId }),
    unkId: -1,
    encode: (text) => bpe.encode(text),
    encodeWithSpecialTokens: (text) => {
      const e = bpe.encode(text);
      if (endId < 0) return e;
      return { ids: [...e.ids, endId], tokens: [...e.tokens, BPE_SPECIALS.eos], offsets: [...e.offsets, [0, 0]] };
    },
  };
}

/** The WordPiece tokenizer of a file, for the tasks that work on words; a clear error otherwise. */
export function wordPieceFromFile(file: TokenizerFile, task: string): WordPieceTokenizer {
  if (file.type !== 'wordpiece') throw new TypeError(`task ${task} needs a wordpiece tokenizer, not ${file.type}`);
  return new WordPieceTokenizer(file);
}

/** Writes a tokenizer file as a `tokenizer` artifact. */
export function saveTokenizer(
  store: ArtifactStore,
  file: TokenizerFile,
  description: Omit<ArtifactDescription, 'kind'>,
): Promise<ArtifactRef> {
  return store.write(
    {
      ...description,
      kind: 'tokenizer',
      meta: { type: file.type, vocabSize: file.vocab.length, labels: file.labels?.length ?? 0 },
    },
    (out) => {
      out.write(JSON.stringify(file));
      return Promise.resolve();
    },
  );
}

/** Reads and checks a `tokenizer` artifact. */
export async function loadTokenizer(store: ArtifactStore, ref: ArtifactRef): Promise<TokenizerFile> {
  const file = JSON.parse((await store.read(ref)).toString('utf8')) as TokenizerFile;
  if (file.format !== 'pipewright-tokenizer' || file.version !== 1)
    throw new Error(`artifact ${ref.sha256} is not a Pipewright tokenizer`);
  return file;
}
