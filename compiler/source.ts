import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import type { Diagnostic, DiagnosticCode } from './diagnostics';
import { excessiveBlockNesting, excessiveFlowNesting, firstInvalidUtf8, SOURCE_LIMITS } from './source-limits';

/** A parsed pipeline file that still knows where every value came from. */
export interface PipelineSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  readonly value: unknown;
}

export type SourcePath = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly col: number;
}

export type ParseResult =
  { ok: true; source: PipelineSource } | { ok: false; diagnostics: Diagnostic[]; text?: string };

/** Decodes and parses pipeline YAML, rejecting binary, non-UTF-8, oversized and over-nested input. */
export function parsePipelineSource(file: string, content: Uint8Array | string): ParseResult {
  const at = (line: number, col: number, code: DiagnosticCode, message: string): ParseResult => ({
    ok: false,
    diagnostics: [{ file, line, col, code, message }],
  });
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (bytes.length > SOURCE_LIMITS.maxBytes) {
    return at(
      1,
      1,
      'FILE_TOO_LARGE',
      `file is ${bytes.length} bytes; pipeline files are limited to ${SOURCE_LIMITS.maxBytes} bytes`,
    );
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line, col } = byteOffsetToPosition(bytes, nul);
    return at(line, col, 'NOT_UTF8_TEXT', 'binary content (a NUL byte): a pipeline must be a UTF-8 YAML text file');
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const { line, col } = byteOffsetToPosition(bytes, bad);
    const hex = bytes[bad]!.toString(16).padStart(2, '0');
    return at(line, col, 'NOT_UTF8_TEXT', `invalid UTF-8 (byte 0x${hex}): save the file as UTF-8`);
  }
  let text = Buffer.from(bytes).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const lineCounter = new LineCounter();
  const nestedAt = [
    excessiveFlowNesting(text, SOURCE_LIMITS.maxDepth),
    excessiveBlockNesting(text, SOURCE_LIMITS.maxDepth),
  ]
    .filter((at) => at >= 0)
    .reduce((first, at) => Math.min(first, at), Infinity);
  if (nestedAt !== Infinity) {
    const { line, col } = offsetToPosition(text, nestedAt);
    return {
      ok: false,
      diagnostics: [
        { file, line, col, code: 'NESTING_TOO_DEEP', message: `nesting deeper than ${SOURCE_LIMITS.maxDepth} levels` },
      ],
      text,
    };
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const diagnostics: Diagnostic[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const pos = lineCounter.linePos(error.pos[0]);
    const message =
      error.code === 'DUPLICATE_KEY'
        ? `duplicate key "${/^[^:\n]*/.exec(text.slice(error.pos[0]))![0].trim()}": a key may appear only once in a mapping`
        : yamlMessage(error.message);
    diagnostics.push({
      file,
      line: pos.line,
      col: pos.col,
      code: error.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'YAML_SYNTAX',
      message,
    });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics, text };

  const deep = findTooDeep(doc.contents, SOURCE_LIMITS.maxDepth);
  if (deep) {
    const { line, col } = nodePosition(lineCounter, deep);
    return {
      ok: false,
      diagnostics: [
        { file, line, col, code: 'NESTING_TOO_DEEP', message: `nesting deeper than ${SOURCE_LIMITS.maxDepth} levels` },
      ],
      text,
    };
  }
  const numbers = unrepresentableNumbers(doc.contents).map((node): Diagnostic => {
    const { line, col } = nodePosition(lineCounter, node);
    const value = node.value as number;
    const message = Number.isFinite(value)
      ? `${node.source} is beyond the integers that are exact (±${Number.MAX_SAFE_INTEGER}); write a smaller number`
      : `${node.source} is not a finite number (it reads as ${value}); write a number within range`;
    return { file, line, col, code: 'NUMBER_OUT_OF_RANGE', message };
  });
  if (numbers.length > 0) return { ok: false, diagnostics: numbers, text };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: SOURCE_LIMITS.maxAliasCount });
  } catch (error) {
    const aliases = error instanceof ReferenceError && /alias/i.test(error.message);
    const message = aliases
      ? `too many alias expansions (more than ${SOURCE_LIMITS.maxAliasCount}): expand the aliases by hand`
      : `cannot read YAML: ${(error as Error).message}`;
    const firstAlias = text.search(/\*[^\s,\]}]/);
    const { line, col } = offsetToPosition(text, Math.max(firstAlias, 0));
    return {
      ok: false,
      diagnostics: [{ file, line, col, code: aliases ? 'TOO_MANY_ALIASES' : 'YAML_SYNTAX', message }],
      text,
    };
  }
  return { ok: true, source: { file, text, doc, lineCounter, value } };
}

/** Where the value at `path` begins; with `key`, where its key begins. Falls back to the nearest ancestor. */
export function locate(source: PipelineSource, path: SourcePath, options: { key?: boolean } = {}): Position {
  let node: unknown = source.doc.contents;
  let best: Node | null = (node as Node | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (last && options.key && isScalar(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    if (node && typeof node === 'object' && 'range' in node) best = node as Node;
    else break;
  }
  return best ? nodePosition(source.lineCounter, best) : { line: 1, col: 1 };
}

function nodePosition(lineCounter: LineCounter, node: Node): Position {
  const offset = node.range?.[0] ?? 0;
  return lineCounter.linePos(offset);
}

function findTooDeep(root: unknown, maxDepth: number): Node | null {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      if (depth > maxDepth) return node;
      for (const item of node.items) {
        stack.push({ node: isPair(item) ? item.value : item, depth: depth + 1 });
      }
    }
  }
  return null;
}

function offsetToPosition(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

function byteOffsetToPosition(bytes: Uint8Array, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** YAML's messages end with their own position and excerpt; ours adds both, so keep the first sentence. */
function yamlMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
}

/** Number scalars that cannot be used as written: .inf, .nan, 1e400, and integers past 2^53 that lose digits. */
function unrepresentableNumbers(root: unknown): Scalar[] {
  const found: Scalar[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) stack.push(...(isPair(item) ? [item.key, item.value] : [item]));
    } else if (isScalar(node) && typeof node.value === 'number') {
      const value = node.value;
      if (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value))) found.push(node);
    }
  }
  return found.sort((a, b) => (a.range?.[0] ?? 0) - (b.range?.[0] ?? 0));
}
