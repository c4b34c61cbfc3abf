import type { ArtifactRef } from '../../spec/types';
import type { ArtifactDescription, ArtifactStore } from '../../store/artifact-store';
import { readFile } from 'node:fs/promises';
import { WordPieceTokenizer } from './wordpiece';

/** A tokenizer as stored in the artifact store: the vocabulary, its settings, and the label names. */
export interface TokenizerFile {
  readonly format: 'pipewright-tokenizer';
  readonly version: 1;
  readonly type: 'wordpiece';
  readonly vocab: readonly string[];
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly continuingPrefix: string;
  readonly maxCharsPerWord: number;
  /** Class label names by id, when the tokenized data has labels. */
  readonly labels?: readonly string[];
  /** Word tag names by id, for token classification. */
  readonly tags?: readonly string[];
}

/** Builds the tokenizer a file describes. */
export function tokenizerFromFile(file: TokenizerFile): WordPieceTokenizer {
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
  const file = JSON.parse(await readFile(await store.localPath(ref), 'utf8')) as TokenizerFile;
  if (file.format !== 'pipewright-tokenizer' || file.version !== 1)
    throw new Error(`artifact ${ref.sha256} is not a Pipewright tokenizer`);
  return file;
}
