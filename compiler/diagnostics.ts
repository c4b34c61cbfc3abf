import { failureClass } from '../core/failures';

/**
 * What kind of problem a diagnostic reports: names tools and tests may match on, which stay the
 * same when a message is reworded.
 */
export const DIAGNOSTIC_CODES = [
  // Reading the file
  'PIPELINE_NOT_FOUND',
  'FILE_TOO_LARGE',
  'NOT_UTF8_TEXT',
  'NESTING_TOO_DEEP',
  'YAML_SYNTAX',
  'DUPLICATE_KEY',
  'NUMBER_OUT_OF_RANGE',
  'TOO_MANY_ALIASES',
  // The JSON Schema
  'UNKNOWN_KEY',
  'MISSING_KEY',
  'WRONG_TYPE',
  'UNKNOWN_ACTIVITY',
  'NOT_ALLOWED',
  'BAD_FORMAT',
  'OUT_OF_RANGE',
  // Names, wiring and dependencies
  'RESERVED_NAME',
  'DUPLICATE_STEP_ID',
  'UNKNOWN_INPUT',
  'MISSING_INPUT',
  'BAD_WIRING',
  'UNKNOWN_STEP',
  'SELF_DEPENDENCY',
  'DEPENDENCY_CYCLE',
  'BAD_CONDITION',
  // Expressions
  'EXPRESSION_SYNTAX',
  'UNKNOWN_REFERENCE',
  'EXPRESSION_TYPE',
  'ARTIFACT_IN_EXPRESSION',
  // Params, as declared and as set
  'BAD_PARAM_VALUE',
  'UNDECLARED_PARAM',
  'MISSING_PARAM',
  'INVALID_AFTER_PARAMS',
  // What fits together across steps
  'METRIC_NOT_REPORTED',
  'TASK_MISMATCH',
  'PRETRAINED_CONFLICT',
  'BAD_FREEZE',
  'BAD_GROUP_PATTERN',
  // What only the machine that runs the pipeline knows
  'DATA_PATH_REFUSED',
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

/** A problem found in a pipeline file, located by 1-based line and column. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly code: DiagnosticCode;
  readonly message: string;
}

/** Thrown when a pipeline cannot be loaded, validated or compiled; carries every problem found. */
export class PipelineError extends failureClass('InvalidPipeline') {
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    readonly rendered: string,
  ) {
    super(rendered);
  }
}

/** Renders `file:line:col: message`, the offending source line and a caret under the column. */
export function formatDiagnostic(diagnostic: Diagnostic, sourceText?: string): string {
  const head = `${diagnostic.file}:${diagnostic.line}:${diagnostic.col}: ${diagnostic.message}`;
  const sourceLine = sourceText?.split('\n')[diagnostic.line - 1];
  if (sourceLine === undefined) return head;
  const shown = sourceLine.replace(/\r$/, '').replace(/\t/g, ' ');
  const clipped = shown.length > 160 ? shown.slice(0, 160) + '…' : shown;
  const gutter = String(diagnostic.line);
  const pad = ' '.repeat(gutter.length);
  const caretCol = Math.min(Math.max(diagnostic.col - 1, 0), clipped.length);
  return `${head}\n ${gutter} | ${clipped}\n ${pad} | ${' '.repeat(caretCol)}^`;
}

/** Renders a list of diagnostics in file order, one block each. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], sourceText?: string): string {
  return sortDiagnostics(diagnostics)
    .map((d) => formatDiagnostic(d, sourceText))
    .join('\n');
}

/** Orders diagnostics by position and drops exact repeats. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...diagnostics]
    .sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message))
    .filter((d) => {
      const key = `${d.line}:${d.col}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
