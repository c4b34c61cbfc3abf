/** Bounds that keep hostile pipeline files from exhausting memory or the stack. */
export const SOURCE_LIMITS = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliasCount: 100,
  /** Operators nested inside one `${{ }}` expression (parentheses, `!`/`-`, chains of `&&`/`||`). */
  maxExpressionDepth: 64,
} as const;

/** Byte offset of the first byte that is not part of valid UTF-8, or -1 when all of it is valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    const second = bytes[i + 1] ?? 0;
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f)) return i;
    if ((b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Offset where flow collections (`[`, `{`) nest deeper than `maxDepth`, or -1.
 * The YAML parser recurses on flow nesting and dies with a fatal out-of-memory on a few
 * thousand levels, so this runs on the raw text before the parser sees it.
 */
export function excessiveFlowNesting(text: string, maxDepth: number): number {
  let depth = 0;
  let quote: '"' | "'" | null = null;
  let previous = '\n';
  // The last character before this one on its line that is not a space ('\n' at a line's start).
  let significant = '\n';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === '"') {
      if (ch === '\\') i++;
      else if (ch === '"') quote = null;
    } else if (quote === "'") {
      if (ch === "'") quote = null;
    } else if (ch === '#' && /\s/.test(previous)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end - 1;
    } else if ((ch === '"' || ch === "'") && /[\n[{,:?-]/.test(significant)) {
      // A quote opens a quoted scalar only where a scalar starts; inside a plain scalar
      // (`note: it's [`) it is an ordinary character.
      quote = ch;
    } else if (ch === '[' || ch === '{') {
      if (++depth > maxDepth) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) {
      depth--;
    }
    previous = ch;
    if (ch === '\n') significant = '\n';
    else if (ch !== ' ' && ch !== '\t') significant = ch;
  }
  return -1;
}

/**
 * Offset of the first line that nests block collections deeper than `maxDepth`, or -1: each
 * deeper indentation opens a level, as does each `- `, `? ` or `: ` that starts a line's content.
 * The YAML parser recurses on block nesting too and overflows the stack at about a thousand levels.
 * Lines inside block scalars (`|`, `>`) are text and open nothing.
 */
export function excessiveBlockNesting(text: string, maxDepth: number): number {
  const indents: number[] = [];
  let scalarIndent = -1;
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    const content = line.trimStart();
    const indent = line.length - content.length;
    if (content === '' || content.startsWith('#')) continue;
    if (scalarIndent >= 0 && indent > scalarIndent) continue;
    scalarIndent = -1;
    while (indents.length > 0 && indents[indents.length - 1]! > indent) indents.pop();
    if (indents.length === 0 || indents[indents.length - 1]! < indent) indents.push(indent);
    const indicators = /^(?:[-?:](?:\s+|$))*/.exec(content)![0].replace(/\s+/g, '').length;
    if (indents.length + indicators > maxDepth) return start + indent;
    if (/(?:^|[\s:-])[|>][-+0-9]*\s*(?:#.*)?$/.test(content)) scalarIndent = indent;
  }
  return -1;
}
