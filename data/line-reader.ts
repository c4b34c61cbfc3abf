import { createReadStream } from 'node:fs';
import { failureClass } from '../core/failures';

/** A problem in a source file, located by line. */
export class SourceDataError extends failureClass('SourceDataError') {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/**
 * One line of a file; `invalid` when it is not UTF-8 (its text then has U+FFFD where bytes were
 * bad); `tooLong` (its size in bytes, its text empty) when it is longer than the reader keeps.
 */
export interface TextLine {
  readonly line: number;
  readonly text: string;
  readonly invalid?: true;
  readonly tooLong?: number;
}

/** Why a line was not read: its size against the limit, for quarantine reasons and errors. */
export function tooLongProblem(bytes: number, maxBytes: number): string {
  return `the line is ${bytes} bytes, over max_record_bytes (${maxBytes}): set with.max_record_bytes higher to read it`;
}

/**
 * Streams a file's lines as strings with 1-based line numbers. A line that is not UTF-8, or longer
 * than `maxLineBytes`, fails the read, or with `lenient` is yielded marked for the caller to set
 * aside; an overlong line is skipped as it streams, so memory stays bounded by the limit.
 */
export async function* readLines(
  path: string,
  displayName = path,
  lenient = false,
  maxLineBytes = Number.POSITIVE_INFINITY,
): AsyncGenerator<TextLine> {
  let pending: Buffer = Buffer.alloc(0);
  let line = 0;
  let invalid = false;
  // Bytes of an overlong line seen so far, while its end is being looked for.
  let skipped = 0;
  const decode = (bytes: Buffer): string => {
    invalid = false;
    try {
      return decoder.decode(bytes);
    } catch {
      if (!lenient) throw new SourceDataError(displayName, line, 'invalid UTF-8: convert the file to UTF-8');
      invalid = true;
      return lenientDecoder.decode(bytes);
    }
  };
  const marked = (text: string): TextLine => (invalid ? { line, text, invalid: true } : { line, text });
  const overlong = (bytes: number): TextLine => {
    if (!lenient) throw new SourceDataError(displayName, line, tooLongProblem(bytes, maxLineBytes));
    return { line, text: '', tooLong: bytes };
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let newline = pending.indexOf(0x0a, start); newline >= 0; newline = pending.indexOf(0x0a, start)) {
      line++;
      const bytes = skipped + newline - start;
      if (bytes > maxLineBytes) {
        yield overlong(bytes);
      } else {
        let text = decode(pending.subarray(start, newline));
        if (text.endsWith('\r')) text = text.slice(0, -1);
        if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        yield marked(text);
      }
      skipped = 0;
      start = newline + 1;
    }
    pending = pending.subarray(start);
    if (skipped + pending.length > maxLineBytes) {
      // No end in sight: count the bytes and let them go.
      skipped += pending.length;
      pending = Buffer.alloc(0);
    }
  }
  if (skipped + pending.length > 0) {
    line++;
    const bytes = skipped + pending.length;
    if (bytes > maxLineBytes) {
      yield overlong(bytes);
      return;
    }
    let text = decode(pending);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    yield marked(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}
