/** Which side of its column a cell is padded to. */
export type Align = 'left' | 'right';

/**
 * A header and rows of cells as aligned text lines: each column as wide as its widest cell, cells
 * padded on the right (`left`) or the left (`right`, for numbers), two spaces between columns.
 */
export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    header
      .map((_, i) => {
        const cell = cells[i] ?? '';
        return align[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/**
 * Lines as a fenced markdown code block, so that a markdown view (the Temporal Web UI's details)
 * keeps their columns aligned; the fence is longer than any run of backticks inside.
 */
export function codeBlock(lines: readonly string[]): string {
  const longest = Math.max(0, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence, ...lines, fence].join('\n');
}
