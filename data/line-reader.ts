import { createReadStream } from 'node:fs';

/** A problem in a source file, located by line. */
export class SourceDataError extends Error {
  override name = 'SourceDataError';
  /** Retrying cannot fix it (see isNonRetryable). */
  readonly nonRetryable = true;
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

/** One line of a file; `invalid` when it is not UTF-8 (its text then has U+FFFD where bytes were bad). */
export interface TextLine {
  readonly line: number;
  readonly text: string;
  readonly invalid?: true;
}

/**
 * Streams a file's lines as strings with 1-based line numbers. A line that is not UTF-8 fails the
 * read, or with `lenient` is yielded marked `invalid` for the caller to set aside.
 */
export async function* readLines(path: string, displayName = path, lenient = false): AsyncGenerator<TextLine> {
  let pending: Buffer = Buffer.alloc(0);
  let line = 0;
  let invalid = false;
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
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let newline = pending.indexOf(0x0a, start); newline >= 0; newline = pending.indexOf(0x0a, start)) {
      line++;
      let text = decode(pending.subarray(start, newline));
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      yield marked(text);
      start = newline + 1;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0) {
    line++;
    let text = decode(pending);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    yield marked(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}
