// Entity metrics against Python seqeval on the same tag sequences: the true tags of SNIPS slots
// and WikiANN-en test, and predictions made from them by seeded corruption (tags swapped for any
// other, so I- without B-, type changes inside an entity and stray E-/S- tags all occur), plus
// hand-made edge cases. Prints both scores and the number of differences, which must be 0.
// Usage: node dist/bench/seqeval-parity.js [--write-fixture]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../data/seeded-random';
import { entityMetrics, type EntityMetrics } from '../ml/metrics/entity-metrics';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';
import { sharedDataDir } from './shared-texts';

export const SEQEVAL_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'seqeval-parity.json');

/** Sequences where the CoNLL rules matter: I- without B-, type switches, E-/S- tags, empty and all-O sequences. */
export const EDGE_CASES: { actual: string[][]; predicted: string[][] } = {
  actual: [
    ['B-PER', 'I-PER', 'O', 'B-LOC'],
    ['O', 'I-ORG', 'I-ORG', 'O'],
    ['B-LOC', 'I-LOC', 'I-PER', 'O'],
    ['S-PER', 'O', 'B-ORG', 'E-ORG'],
    [],
    ['O', 'O'],
    ['B-PER', 'B-PER', 'I-PER'],
    ['I-MISC'],
  ],
  predicted: [
    ['B-PER', 'I-PER', 'O', 'I-LOC'],
    ['B-ORG', 'I-ORG', 'I-ORG', 'O'],
    ['B-LOC', 'I-LOC', 'B-PER', 'O'],
    ['B-PER', 'O', 'B-ORG', 'I-ORG'],
    [],
    ['I-PER', 'O'],
    ['B-PER', 'I-PER', 'I-PER'],
    ['I-MISC'],
  ],
};

function tagSequences(file: string, limit?: number): string[][] {
  const lines = readFileSync(join(sharedDataDir(), file), 'utf8').trim().split('\n');
  return lines.slice(0, limit).map((line) => (JSON.parse(line) as { tags: string[] }).tags);
}

/** Each tag replaced, with probability `rate`, by any tag of the set (itself included), seeded. */
function corrupt(sequences: readonly string[][], rate: number, seed: number): string[][] {
  const tags = [...new Set(sequences.flat())].sort();
  const random = seededRandom(seed);
  return sequences.map((s) => s.map((tag) => (random() < rate ? tags[Math.floor(random() * tags.length)]! : tag)));
}

function seqeval(actual: readonly string[][], predicted: readonly string[][]): EntityMetrics {
  const out = execFileSync(referencePython(), [join(PROJECT_ROOT, 'bench', 'reference', 'seqeval_scores.py')], {
    input: JSON.stringify({ actual, predicted }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out) as EntityMetrics;
}

/** Every number of two score sets that is not identical, as `path: ours vs theirs`. */
export function differences(ours: EntityMetrics, theirs: EntityMetrics): string[] {
  const out: string[] = [];
  for (const key of ['precision', 'recall', 'f1', 'accuracy'] as const)
    if (ours[key] !== theirs[key]) out.push(`${key}: ${ours[key]} vs ${theirs[key]}`);
  if (ours.perType.length !== theirs.perType.length)
    out.push(`types: ${ours.perType.map((t) => t.label).join(',')} vs ${theirs.perType.map((t) => t.label).join(',')}`);
  ours.perType.forEach((row, i) => {
    const other = theirs.perType[i];
    for (const key of ['label', 'precision', 'recall', 'f1', 'support'] as const)
      if (row[key] !== other?.[key]) out.push(`${row.label}.${key}: ${row[key]} vs ${other?.[key]}`);
  });
  return out;
}

function main(): void {
  const cases: { name: string; actual: string[][]; predicted: string[][] }[] = [{ name: 'edge cases', ...EDGE_CASES }];
  for (const file of ['snips/slots/test.jsonl', 'wikiann-en/test.jsonl']) {
    const actual = tagSequences(file);
    cases.push({ name: `${file}, truth vs itself`, actual, predicted: actual });
    for (const [rate, seed] of [
      [0.05, 1],
      [0.3, 2],
    ] as const)
      cases.push({ name: `${file}, ${rate * 100}% of tags corrupted`, actual, predicted: corrupt(actual, rate, seed) });
  }
  let total = 0;
  for (const c of cases) {
    const ours = entityMetrics(c.actual, c.predicted);
    const theirs = seqeval(c.actual, c.predicted);
    const diff = differences(ours, theirs);
    total += diff.length;
    console.log(
      `${c.name} (${c.actual.length} sequences): ours P ${ours.precision} R ${ours.recall} F1 ${ours.f1} acc ${ours.accuracy}`,
    );
    console.log(
      `${' '.repeat(c.name.length)}  seqeval P ${theirs.precision} R ${theirs.recall} F1 ${theirs.f1} acc ${theirs.accuracy}`,
    );
    for (const d of diff) console.log(`  DIFFERENT ${d}`);
  }
  console.log(`differences: ${total}`);
  if (process.argv.includes('--write-fixture')) {
    // SNIPS slots (CC0): 300 true sequences against a 20% corruption, plus the edge cases.
    const actual = [...EDGE_CASES.actual, ...tagSequences('snips/slots/test.jsonl', 300)];
    const predicted = [...EDGE_CASES.predicted, ...corrupt(actual.slice(EDGE_CASES.actual.length), 0.2, 3)];
    writeFileSync(SEQEVAL_FIXTURE, JSON.stringify({ actual, predicted, seqeval: seqeval(actual, predicted) }) + '\n');
    console.log(`wrote ${SEQEVAL_FIXTURE}`);
  }
  if (total > 0) process.exitCode = 1;
}

if (require.main === module) main();
