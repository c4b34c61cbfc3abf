// BLEU and chrF against sacreBLEU (2.6.0, defaults) on the same texts: replies of DailyDialog
// validation and of the ChatterBot sample as references, with hypotheses made from them by
// seeded edits (words dropped, swapped and replaced), unrelated replies, and hand-made edge cases
// (13a's punctuation, number and entity rules, empty and whitespace-only texts, non-ASCII).
// Prints both scores per case and the largest difference, which must be below 1e-9.
// Usage: node dist/bench/sacrebleu-parity.js [--write-fixture]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../data/seeded-random';
import { corpusBleu, corpusChrf } from '../ml/metrics/generation-metrics';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';
import { sharedDataDir } from './shared-texts';

export const SACREBLEU_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'sacrebleu-parity.json');

/** What sacreBLEU reports of a corpus. */
export interface ReferenceScores {
  readonly bleu: number;
  readonly precisions: readonly number[];
  readonly brevityPenalty: number;
  readonly hypothesisLength: number;
  readonly referenceLength: number;
  readonly chrf: number;
}

/** Pairs where 13a's rules and the edge cases of both scores matter. */
export const EDGE_CASES: { hypotheses: string[]; references: string[] } = {
  hypotheses: [
    'It costs $3.50, or 3,5 euros.',
    'Call me at 555-1234 - now!',
    'He said &quot;yes&quot; &amp; left.',
    '',
    '   ',
    'Ça va? Très bien, merci.',
    'ok',
    'The meeting is at 10.30 a.m. (room 2-B).',
    'tab\tseparated\u00a0words',
    '😀 great!',
  ],
  references: [
    'It costs $3.50 , or 3,5 euros .',
    'Call me at 555 - 1234 now!',
    'He said "yes" & left.',
    'Nothing was said.',
    'Fine.',
    'Ça va ? Très bien , merci .',
    'ok',
    'The meeting is at 10.30 a.m. (room 2-B).',
    'tab separated words',
    '😀 great !',
  ],
};

function replies(file: string, limit?: number): string[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(0, limit);
  return lines.map((line) => (JSON.parse(line) as { response: string }).response);
}

/** Each word dropped, swapped with the next or replaced by another reply's word, each with probability `rate`. */
function edit(texts: readonly string[], rate: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pool = texts.flatMap((t) => t.split(' '));
  return texts.map((text) => {
    const words = text.split(' ');
    const out: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const r = random();
      if (r < rate / 3) continue;
      if (r < (2 * rate) / 3 && i + 1 < words.length) {
        out.push(words[i + 1]!, words[i]!);
        i++;
      } else if (r < rate) out.push(pool[Math.floor(random() * pool.length)]!);
      else out.push(words[i]!);
    }
    return out.join(' ');
  });
}

export function sacrebleu(hypotheses: readonly string[], references: readonly string[]): ReferenceScores {
  const out = execFileSync(referencePython(), [join(PROJECT_ROOT, 'bench', 'reference', 'sacrebleu_scores.py')], {
    input: JSON.stringify({ hypotheses, references }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out) as ReferenceScores;
}

/** The largest difference between our scores and sacreBLEU's. */
export function largestDifference(
  hypotheses: readonly string[],
  references: readonly string[],
  theirs: ReferenceScores,
): number {
  const bleu = corpusBleu(hypotheses, references);
  const pairs: [number, number][] = [
    [bleu.score, theirs.bleu],
    [bleu.brevityPenalty, theirs.brevityPenalty],
    [bleu.hypothesisLength, theirs.hypothesisLength],
    [bleu.referenceLength, theirs.referenceLength],
    [corpusChrf(hypotheses, references), theirs.chrf],
    ...bleu.precisions.map((p, i): [number, number] => [p, theirs.precisions[i]!]),
  ];
  return Math.max(...pairs.map(([a, b]) => Math.abs(a - b)));
}

function main(): void {
  const chatterbot = replies(join(PROJECT_ROOT, 'pipelines', 'data', 'chatterbot-en-sample.jsonl'));
  const dailydialog = replies(join(sharedDataDir(), 'dailydialog-en', 'validation.jsonl'));
  const cases: { name: string; hypotheses: string[]; references: string[] }[] = [{ name: 'edge cases', ...EDGE_CASES }];
  for (const [name, references] of [
    ['ChatterBot sample', chatterbot],
    ['DailyDialog validation', dailydialog],
  ] as const) {
    cases.push({ name: `${name}, itself`, hypotheses: [...references], references });
    cases.push({ name: `${name}, the next reply`, hypotheses: [...references.slice(1), references[0]!], references });
    for (const [rate, seed] of [
      [0.1, 1],
      [0.5, 2],
    ] as const)
      cases.push({
        name: `${name}, ${rate * 100}% of words edited`,
        hypotheses: edit(references, rate, seed),
        references,
      });
  }
  let worst = 0;
  for (const c of cases) {
    const theirs = sacrebleu(c.hypotheses, c.references);
    const difference = largestDifference(c.hypotheses, c.references, theirs);
    worst = Math.max(worst, difference);
    const bleu = corpusBleu(c.hypotheses, c.references).score;
    console.log(
      `${c.name} (${c.hypotheses.length} pairs): BLEU ours ${bleu} sacrebleu ${theirs.bleu}; chrF ours ${corpusChrf(c.hypotheses, c.references)} sacrebleu ${theirs.chrf}; largest difference ${difference}`,
    );
  }
  console.log(`largest difference over all cases: ${worst}`);
  if (process.argv.includes('--write-fixture')) {
    // The ChatterBot sample (BSD) with 30% of its words edited, plus the edge cases.
    const references = [...EDGE_CASES.references, ...chatterbot];
    const hypotheses = [...EDGE_CASES.hypotheses, ...edit(chatterbot, 0.3, 3)];
    writeFileSync(
      SACREBLEU_FIXTURE,
      JSON.stringify({ hypotheses, references, sacrebleu: sacrebleu(hypotheses, references) }) + '\n',
    );
    console.log(`wrote ${SACREBLEU_FIXTURE}`);
  }
  if (worst > 1e-9) process.exitCode = 1;
}

if (require.main === module) main();
