import { hashString, seededRandom, shuffleInPlace } from './seeded-random';

export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitRatios {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
}

/**
 * Assigns each row to a split (0 train, 1 validation, 2 test) with exact per-group counts:
 * within each group (a label when stratifying, else all rows) the rows are shuffled by the seed
 * and cut by the ratios, so every label keeps its share in every split.
 */
export function assignSplits(groups: readonly string[], ratios: SplitRatios, seed: number): Uint8Array {
  const members = new Map<string, number[]>();
  groups.forEach((group, row) => {
    let list = members.get(group);
    if (!list) members.set(group, (list = []));
    list.push(row);
  });
  const assignment = new Uint8Array(groups.length);
  for (const [group, rows] of [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    shuffleInPlace(rows, seededRandom(seed ^ hashString(group)));
    const nTrain = Math.round(rows.length * ratios.train);
    const nValidation = Math.min(rows.length - nTrain, Math.round(rows.length * ratios.validation));
    rows.forEach((row, i) => {
      assignment[row] = i < nTrain ? 0 : i < nTrain + nValidation ? 1 : 2;
    });
  }
  return assignment;
}
