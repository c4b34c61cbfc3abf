// SQuAD v1.1 scoring against the official evaluation's logic in Python (bench/reference/
// squad_scores.py) on the same predictions: the gold answers of SQuAD dev and XQuAD-en, and
// predictions made from them by seeded edits (spans widened or narrowed by words, moved, replaced by
// other context text, articles, punctuation and case changed), plus hand-made edge cases. Prints
// both scores and the number of questions whose scores differ, which must be 0.
// Usage: node dist/bench/squad-parity.js
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../data/seeded-random';
import { exactMatch, squadScores, tokenF1, type ScoredAnswer } from '../ml/metrics/squad-metrics';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';
import { sharedDataDir } from './shared-texts';

interface SquadRow {
  readonly context: string;
  readonly answers: { readonly text: string[]; readonly answer_start: number[] };
}

const EDGE_CASES: ScoredAnswer[] = [
  { prediction: '', golds: ['Broncos'] },
  { prediction: 'the', golds: ['a'] },
  { prediction: 'The Broncos.', golds: ['broncos'] },
  { prediction: 'théa an', golds: ['théa'] },
  { prediction: 'naïve\u00a0the\u2009end', golds: ['naïve end'] },
  { prediction: '“quoted” — dash', golds: ['quoted dash'] },
  { prediction: 'ÀN apple', golds: ['àn apple'] },
  { prediction: '1,000', golds: ['1000', 'one thousand'] },
  { prediction: 'very very good', golds: ['very good', 'good'] },
];

/** A prediction made from a gold answer: the span edited by a seeded choice of rule. */
function edited(row: SquadRow, random: () => number): string {
  const { context } = row;
  const start = row.answers.answer_start[0]!;
  const end = start + row.answers.text[0]!.length;
  const wordEdge = (at: number, step: number, words: number) => {
    let i = at;
    for (let w = 0; w < words; w++) {
      i += step;
      while (i > 0 && i < context.length && context[i] !== ' ') i += step;
    }
    return Math.max(0, Math.min(context.length, i));
  };
  const words = 1 + Math.floor(random() * 3);
  switch (Math.floor(random() * 7)) {
    case 0:
      return context.slice(start, end);
    case 1:
      return context.slice(wordEdge(start, -1, words), end);
    case 2:
      return context.slice(start, wordEdge(end, 1, words));
    case 3: {
      const at = Math.floor(random() * Math.max(1, context.length - 40));
      return context.slice(at, at + 5 + Math.floor(random() * 35));
    }
    case 4:
      return `The ${context.slice(start, end).toUpperCase()}.`;
    case 5:
      return context.slice(start, end).replace(/[ ,.]/g, (c) => (random() < 0.5 ? '' : `${c}  `));
    default:
      return `an ${context.slice(start, Math.max(start + 1, end - 3))}`;
  }
}

function reference(answers: readonly ScoredAnswer[]): {
  exact_match: number;
  f1: number;
  questions: number;
  per_question: [number, number][];
} {
  const out = execFileSync(referencePython(), [join(PROJECT_ROOT, 'bench', 'reference', 'squad_scores.py')], {
    input: JSON.stringify({ answers }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out) as ReturnType<typeof reference>;
}

function main(): void {
  const cases: { name: string; answers: ScoredAnswer[] }[] = [{ name: 'edge cases', answers: EDGE_CASES }];
  for (const file of ['squad-en/dev.jsonl', 'xquad-en/test.jsonl']) {
    const rows = readFileSync(join(sharedDataDir(), file), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SquadRow);
    const random = seededRandom(13);
    cases.push({
      name: `${file} (${rows.length} questions)`,
      answers: rows.map((row) => ({ prediction: edited(row, random), golds: row.answers.text })),
    });
  }
  let total = 0;
  for (const { name, answers } of cases) {
    const ours = squadScores(answers);
    const theirs = reference(answers);
    const differing = answers.filter((a, i) => {
      const em = Math.max(0, ...a.golds.map((g) => exactMatch(a.prediction, g)));
      const f1 = Math.max(0, ...a.golds.map((g) => tokenF1(a.prediction, g)));
      const [refEm, refF1] = theirs.per_question[i]!;
      return em !== refEm || f1 !== refF1;
    });
    total += differing.length + (ours.exactMatch === theirs.exact_match && ours.f1 === theirs.f1 ? 0 : 1);
    console.log(
      `${name}: EM ${(100 * ours.exactMatch).toFixed(4)} vs ${(100 * theirs.exact_match).toFixed(4)}, F1 ${(100 * ours.f1).toFixed(4)} vs ${(100 * theirs.f1).toFixed(4)}, questions scored differently: ${differing.length}`,
    );
    for (const a of differing.slice(0, 5)) console.log(`  ${JSON.stringify(a)}`);
  }
  console.log(`differences: ${total}`);
  if (total > 0) process.exitCode = 1;
}

main();
