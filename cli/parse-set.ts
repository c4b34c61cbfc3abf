import { UserError } from './user-error';

/** Collects repeated `--set key=value` options into an object (values stay strings; the compiler types them). */
export function collectSet(pair: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new UserError(`--set expects key=value, got "${pair}"`, 2);
  return { ...previous, [pair.slice(0, eq)]: pair.slice(eq + 1) };
}
