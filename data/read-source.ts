import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { readArrowRows } from '../store/arrow-io';
import { readDelimited } from './delimited';
import { readLines, SourceDataError } from './line-reader';

import { SOURCE_FORMATS } from '../spec/contracts/load';

export type SourceFormat = (typeof SOURCE_FORMATS)[number];

export interface SourceRecord {
  /** The line the record starts on (text formats) or its 1-based row number (JSON arrays, Arrow). */
  readonly line: number;
  readonly record: Record<string, unknown>;
}

const JSON_ARRAY_MAX_BYTES = 256 * 1024 * 1024;

/** The format a file name implies, or undefined when its extension is unknown. */
export function formatFromExtension(path: string): SourceFormat | undefined {
  const ext = extname(path).toLowerCase().slice(1);
  const aliases: Record<string, SourceFormat> = {
    jsonl: 'jsonl',
    ndjson: 'jsonl',
    json: 'json',
    csv: 'csv',
    tsv: 'tsv',
    arrow: 'arrow',
    feather: 'arrow',
    ipc: 'arrow',
  };
  return aliases[ext];
}

/** Streams the records of a source file, whatever its format. */
export async function* readSource(
  path: string,
  format: SourceFormat,
  displayName = path,
): AsyncGenerator<SourceRecord> {
  switch (format) {
    case 'jsonl':
      for await (const { line, text } of readLines(path, displayName)) {
        if (text.trim() === '') continue;
        yield { line, record: parseObject(text, displayName, line) };
      }
      return;
    case 'json':
      yield* readJsonArray(path, displayName);
      return;
    case 'csv':
    case 'tsv':
      yield* readDelimited(path, format === 'csv' ? ',' : '\t', displayName);
      return;
    case 'arrow': {
      let row = 0;
      for await (const chunk of readArrowRows(path)) for (const record of chunk) yield { line: ++row, record };
      return;
    }
  }
}

function parseObject(text: string, file: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SourceDataError(file, line, `invalid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SourceDataError(file, line, 'each line must be a JSON object');
  }
  return value as Record<string, unknown>;
}

async function* readJsonArray(path: string, file: string): AsyncGenerator<SourceRecord> {
  const { size } = await stat(path);
  if (size > JSON_ARRAY_MAX_BYTES) {
    throw new SourceDataError(
      file,
      1,
      `a JSON array file is read whole and is limited to ${JSON_ARRAY_MAX_BYTES} bytes; convert it to JSON Lines`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
  } catch {
    throw new SourceDataError(file, 1, 'invalid UTF-8: convert the file to UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SourceDataError(file, 1, `invalid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new SourceDataError(file, 1, 'a .json source must hold an array of objects');
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new SourceDataError(file, 1, `element ${i + 1} of the array is not an object`);
    }
    yield { line: i + 1, record: item as Record<string, unknown> };
  }
}
