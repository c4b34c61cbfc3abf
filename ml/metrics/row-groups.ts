import { GROUP_PATTERN_FLAGS } from '../../core/contracts/validate';
import type { Row } from '../../store/arrow-io';

/** How `validate` groups rows to score each group on its own: by a column, optionally by a pattern in it. */
export interface GroupBy {
  readonly column: string;
  /** A regular expression: a row's group is its first match (or first capture group) in the column. */
  readonly match?: string;
}

/** The group of rows whose column is empty or holds no match of the pattern. */
export const NO_GROUP = '(none)';

/** The group each row belongs to, as `by` defines it. */
export function rowGroup(by: GroupBy): (row: Row) => string {
  const pattern = by.match === undefined ? undefined : new RegExp(by.match, GROUP_PATTERN_FLAGS);
  return (row) => {
    const value = row[by.column];
    if (value === null || value === undefined || value === '') return NO_GROUP;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (!pattern) return text;
    const found = pattern.exec(text);
    return found ? (found[1] ?? found[0]) : NO_GROUP;
  };
}

/** Group names in reading order: numbers inside names compare as numbers (qa2 before qa10), NO_GROUP last. */
export function sortGroups(groups: Iterable<string>): string[] {
  return [...groups].sort((a, b) =>
    a === NO_GROUP ? 1 : b === NO_GROUP ? -1 : a.localeCompare(b, 'en', { numeric: true }),
  );
}
