import { asRecord } from './as-record';
import { GROUP_PATTERN_FLAGS } from '../core/contracts/validate';
import type { Reporter, StepLookup } from './step-lookup';

/** Checks that a validate step's `group_by.match`, when written out, is a regular expression that compiles. */
export function checkGroupPatterns(steps: StepLookup, ids: Iterable<string>, report: Reporter): void {
  for (const id of ids) {
    if (steps.uses(id) !== 'validate') continue;
    const match = asRecord(steps.withOf(id).group_by)?.match;
    if (typeof match !== 'string' || match.includes('${{')) continue;
    try {
      new RegExp(match, GROUP_PATTERN_FLAGS);
    } catch (error) {
      report(
        'BAD_GROUP_PATTERN',
        steps.at(id, 'with', 'group_by', 'match'),
        `step "${id}": group_by.match is not a regular expression: ${(error as Error).message}`,
      );
    }
  }
}
