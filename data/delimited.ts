import { readLines, SourceDataError } from './line-reader';

/**
 * Parses CSV or TSV (RFC 4180 quoting, so quoted fields may hold delimiters and newlines),
 * yielding one record per row with the header as keys and the line the record starts on.
 */
export async function* readDelimited(
  path: string,
  delimiter: ',' | '\t',
  displayName = path,
): AsyncGenerator<{ line: number; record: Record<string, string> }> {
  let header: string[] | undefined;
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let startLine = 0;
  for await (const { line, text } of readLines(path, displayName)) {
    if (!quoted) {
      startLine = line;
      if (text === '' && fields.length === 0) continue;
    } else {
      field += '\n';
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
      header = fields.map((name) => name.trim());
      const duplicate = header.find((name, i) => header!.indexOf(name) !== i);
      if (duplicate !== undefined)
        throw new SourceDataError(displayName, startLine, `header names column "${duplicate}" twice`);
    } else {
      if (fields.length !== header.length) {
        throw new SourceDataError(
          displayName,
          startLine,
          `has ${fields.length} fields, but the header has ${header.length}`,
        );
      }
      yield { line: startLine, record: Object.fromEntries(header.map((name, i) => [name, fields[i]!])) };
    }
    fields = [];
  }
  if (quoted) throw new SourceDataError(displayName, startLine, 'a quoted field is never closed');
}
