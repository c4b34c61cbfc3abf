import { readLines, SourceDataError, tooLongProblem } from './line-reader';
import type { BadRecord } from './read-source';

/**
 * Parses CSV or TSV (RFC 4180 quoting, so quoted fields may hold delimiters and newlines),
 * yielding one record per row with the header as keys and the line the record starts on.
 */
export async function* readDelimited(
  path: string,
  delimiter: ',' | '\t',
  displayName: string,
  bad: (record: BadRecord) => void,
  lenient: boolean,
  maxRecordBytes?: number,
): AsyncGenerator<{ line: number; record: Record<string, string> }> {
  let header: string[] | undefined;
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let startLine = 0;
  // The row being read: its text and whether any of its lines was not UTF-8.
  let rowText = '';
  let rowInvalid = false;
  for await (const { line, text, invalid, tooLong } of readLines(path, displayName, lenient, maxRecordBytes)) {
    if (tooLong !== undefined) {
      if (!header) throw new SourceDataError(displayName, line, tooLongProblem(tooLong, maxRecordBytes!));
      // The row it was part of is set aside whole; reading goes on at the next line.
      bad({ line: quoted ? startLine : line, problem: tooLongProblem(tooLong, maxRecordBytes!), text: '' });
      [fields, field, quoted] = [[], '', false];
      continue;
    }
    if (!quoted) {
      startLine = line;
      if (text === '' && fields.length === 0) continue;
      rowText = text;
      rowInvalid = invalid === true;
    } else {
      field += '\n';
      rowText += `\n${text}`;
      rowInvalid ||= invalid === true;
    }
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (ch === '"') {
          quoted = false;
        } else {
          field += ch;
        }
      } else if (ch === '"' && field === '') {
        quoted = true;
      } else if (ch === delimiter) {
        fields.push(field);
        field = '';
      } else {
        field += ch;
      }
    }
    if (quoted) continue;
    fields.push(field);
    field = '';
    if (!header) {
      if (rowInvalid) throw new SourceDataError(displayName, startLine, 'invalid UTF-8: convert the file to UTF-8');
      header = fields.map((name) => name.trim());
      const duplicate = header.find((name, i) => header!.indexOf(name) !== i);
      if (duplicate !== undefined)
        throw new SourceDataError(displayName, startLine, `header names column "${duplicate}" twice`);
    } else if (rowInvalid) {
      bad({ line: startLine, problem: 'invalid UTF-8: convert the file to UTF-8', text: rowText });
    } else if (fields.length !== header.length) {
      bad({
        line: startLine,
        problem: `has ${fields.length} fields, but the header has ${header.length}`,
        text: rowText,
      });
    } else {
      yield { line: startLine, record: Object.fromEntries(header.map((name, i) => [name, fields[i]!])) };
    }
    fields = [];
  }
  if (quoted) throw new SourceDataError(displayName, startLine, 'a quoted field is never closed');
}
