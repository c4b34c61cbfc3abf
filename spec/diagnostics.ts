/** A problem found in a pipeline file, located by 1-based line and column. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** Thrown when a pipeline cannot be loaded, validated or compiled; carries every problem found. */
export class PipelineError extends Error {
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    readonly rendered: string,
  ) {
    super(rendered);
    this.name = 'PipelineError';
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
