import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { readArrowRows } from '../store/arrow-io';
import { readDelimited } from './delimited';
import { readLines, SourceDataError, tooLongProblem } from './line-reader';

import { SOURCE_FORMATS } from '../core/contracts/load';

export type SourceFormat = (typeof SOURCE_FORMATS)[number];

export interface SourceRecord {
  /** The line the record starts on (text formats) or its 1-based row number (JSON arrays, Arrow). */
  readonly line: number;
  readonly record: Record<string, unknown>;
}

/** A record that could not be read (malformed JSON, not UTF-8, wrong field count): where, why, and its text. */
export interface BadRecord {
  readonly line: number;
  readonly problem: string;
  readonly text: string;
}

/** What to do with a bad record: without a handler it fails the read with a SourceDataError. */
export type BadRecordHandler = (bad: BadRecord) => void;

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

/**
 * Streams the records of a source file, whatever its format. With `onBad`, a record of a line-based
 * format that cannot be read (or whose line is over `maxRecordBytes`) is handed to it and the read goes on; a file that is wrong as a whole
 * (a JSON array that does not parse, a CSV header naming a column twice) still fails the read.
 */
export async function* readSource(
  path: string,
  format: SourceFormat,
  displayName = path,
  onBad?: BadRecordHandler,
  maxRecordBytes?: number,
): AsyncGenerator<SourceRecord> {
  const bad = (record: BadRecord) => {
    if (!onBad) throw new SourceDataError(displayName, record.line, record.problem);
    onBad(record);
  };
  switch (format) {
    case 'jsonl':
      for await (const { line, text, invalid, tooLong } of readLines(
        path,
        displayName,
        onBad !== undefined,
        maxRecordBytes,
      )) {
        if (tooLong !== undefined) {
          bad({ line, problem: tooLongProblem(tooLong, maxRecordBytes!), text: '' });
          continue;
        }
        if (text.trim() === '') continue;
        const parsed = invalid ? 'invalid UTF-8: convert the file to UTF-8' : parseObject(text);
        if (typeof parsed === 'string') bad({ line, problem: parsed, text });
        else yield { line, record: parsed };
      }
      return;
    case 'json':
      yield* readJsonArray(path, displayName);
      return;
    case 'csv':
    case 'tsv':
      yield* readDelimited(path, format === 'csv' ? ',' : '\t', displayName, bad, onBad !== undefined, maxRecordBytes);
      return;
    case 'arrow': {
      let row = 0;
      for await (const chunk of readArrowRows(path)) for (const record of chunk) yield { line: ++row, record };
      return;
    }
  }
}

/** A JSON Lines line as an object, or why it is not one. */
function parseObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `invalid JSON: ${(error as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'each line must be a JSON object';
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
