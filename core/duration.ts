/** The form of a duration setting: a number and a unit. */
export const DURATION_PATTERN = '^([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h|d)$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration like `500ms`, `30s`, `1.5h` (the schema has already checked the form). */
export function parseDuration(text: string): number {
  const match = new RegExp(DURATION_PATTERN).exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}
