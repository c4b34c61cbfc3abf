import { readFileSync } from 'node:fs';
import type { ByteLevelBpeConfig } from './byte-level-bpe';

/** A byte-level BPE model from the usual files: `vocab.json` (token → id) and `merges.txt` ("left right" per line). */
export function readByteLevelBpeFiles(vocabJson: string, mergesTxt: string): ByteLevelBpeConfig {
  const ids = JSON.parse(readFileSync(vocabJson, 'utf8')) as Record<string, number>;
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(ids)) vocab[id] = token;
  const merges = readFileSync(mergesTxt, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#version'))
    .map((line) => {
      const space = line.indexOf(' ');
      return [line.slice(0, space), line.slice(space + 1)] as const;
    });
  return { vocab, merges };
}
