import { hashString, seededRandom, shuffleInPlace } from './seeded-random';

export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitRatios {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
}

/**
 * Assigns each row to a split (0 train, 1 validation, 2 test) with exact per-group counts
 * (`groups[row]` is an index into `groupNames`):
 * within each group (a label when stratifying, else all rows) the rows are shuffled by the seed
 * and cut by the ratios, so every label keeps its share in every split.
 */
export function assignSplits(
  groups: Int32Array,
  groupNames: readonly string[],
  ratios: SplitRatios,
  seed: number,
): Uint8Array {
  const members = groupNames.map(() => [] as number[]);
  groups.forEach((g, row) => members[g]!.push(row));
  const assignment = new Uint8Array(groups.length);
  const order = groupNames
    .map((_, g) => g)
    .sort((a, b) => (groupNames[a]! < groupNames[b]! ? -1 : groupNames[a]! > groupNames[b]! ? 1 : 0));
  for (const g of order) {
    const rows = Int32Array.from(members[g]!);
    shuffleInPlace(rows, seededRandom(seed ^ hashString(groupNames[g]!)));
    const nTrain = Math.round(rows.length * ratios.train);
    const nValidation = Math.min(rows.length - nTrain, Math.round(rows.length * ratios.validation));
    rows.forEach((row, i) => {
      assignment[row] = i < nTrain ? 0 : i < nTrain + nValidation ? 1 : 2;
    });
    members[g] = [];
  }
  return assignment;
}
