/** Bounds that keep hostile pipeline files from exhausting memory or the stack. */
export const SOURCE_LIMITS = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliasCount: 100,
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
    } else if ((ch === '"' || ch === "'") && /[\s[{,:]/.test(previous)) {
      quote = ch;
    } else if (ch === '[' || ch === '{') {
      if (++depth > maxDepth) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) {
      depth--;
    }
    previous = ch;
  }
  return -1;
}
