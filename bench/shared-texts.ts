import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../worker/config';

/** The shared datasets folder: $PIPEWRIGHT_SHARED_DATA, else ../shared/data beside the checkout. */
export function sharedDataDir(): string {
  const dir = resolve(process.env.PIPEWRIGHT_SHARED_DATA ?? join(PROJECT_ROOT, '..', 'shared', 'data'));
  if (!existsSync(dir)) throw new Error(`shared datasets not found at ${dir}; set PIPEWRIGHT_SHARED_DATA`);
  return dir;
}

const FILES: Record<string, (row: Record<string, unknown>) => string[]> = {
  'snips/intents/train.jsonl': (r) => [r.text as string],
  'snips/intents/test.jsonl': (r) => [r.text as string],
  'snips/slots/train.jsonl': (r) => [(r.tokens as string[]).join(' ')],
  'snips/slots/test.jsonl': (r) => [(r.tokens as string[]).join(' ')],
  'wikiann-en/train.jsonl': (r) => [(r.tokens as string[]).join(' ')],
  'wikiann-en/dev.jsonl': (r) => [(r.tokens as string[]).join(' ')],
  'wikiann-en/test.jsonl': (r) => [(r.tokens as string[]).join(' ')],
  'xquad-en/test.jsonl': (r) => [r.question as string, r.context as string],
  'babi-en/train.jsonl': (r) => [r.question as string, r.context as string],
  'babi-en/test.jsonl': (r) => [r.question as string, r.context as string],
  'chatterbot-en/train.jsonl': (r) => [...(r.context as string[]), r.response as string],
  'chatterbot-en/test.jsonl': (r) => [...(r.context as string[]), r.response as string],
};

/** Every text of every row of the shared datasets, in a fixed order. */
export function sharedTexts(dir = sharedDataDir()): string[] {
  const texts: string[] = [];
  for (const [file, extract] of Object.entries(FILES)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim() !== '') texts.push(...extract(JSON.parse(line) as Record<string, unknown>));
    }
  }
  return texts;
}
