// Tokenizer parity and throughput against Hugging Face `tokenizers`, on every text of ../shared/data.
// Usage: node dist/bench/wordpiece-parity.js [--write-fixture N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertBaseUncasedTokenizer, bertBaseUncasedVocab } from '../ml/tokenizers/vocab-files';
import type { Encoding } from '../ml/tokenizers/wordpiece';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';
import { sharedTexts } from './shared-texts';

export const PARITY_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'wordpiece-parity.jsonl');

/** UTF-16 offsets of `text` as code-point offsets, the unit Python strings use. */
export function toCodePointOffsets(text: string, offsets: [number, number][]): [number, number][] {
  const cp = new Int32Array(text.length + 1);
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    cp[i] = count;
    const code = text.charCodeAt(i);
    if (!(code >= 0xd800 && code <= 0xdbff)) count++;
  }
  cp[text.length] = count;
  return offsets.map(([s, e]) => [cp[s]!, cp[e]!]);
}

function main(): void {
  const fixtureArg = process.argv.indexOf('--write-fixture');
  const texts = sharedTexts();
  const work = mkdtempSync(join(tmpdir(), 'pipewright-parity-'));
  try {
    const vocab = bertBaseUncasedVocab();
    writeFileSync(join(work, 'vocab.txt'), vocab.join('\n') + '\n');
    writeFileSync(join(work, 'texts.jsonl'), texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const python = referencePython();
    const timing = JSON.parse(
      execFileSync(
        python,
        [
          join(PROJECT_ROOT, 'bench', 'reference', 'hf_wordpiece.py'),
          join(work, 'vocab.txt'),
          join(work, 'texts.jsonl'),
          join(work, 'hf.jsonl'),
        ],
        { encoding: 'utf8' },
      ),
    ) as { sequential_s: number; batch_s: number };
    const expected = readFileSync(join(work, 'hf.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ids: number[]; offsets: [number, number][] });

    const tokenizer = bertBaseUncasedTokenizer();
    const started = process.hrtime.bigint();
    const ours: Encoding[] = texts.map((text) => tokenizer.encodeWithSpecialTokens(text));
    const oursS = Number(process.hrtime.bigint() - started) / 1e9;

    let idMismatches = 0;
    let offsetMismatches = 0;
    let tokens = 0;
    texts.forEach((text, i) => {
      const want = expected[i]!;
      const got = ours[i]!;
      tokens += got.ids.length;
      if (JSON.stringify(got.ids) !== JSON.stringify(want.ids)) {
        if (idMismatches++ < 5)
          console.log(
            `ids differ on text ${i}: ${JSON.stringify(text).slice(0, 200)}\n  ours ${JSON.stringify(got.tokens)}\n  hf   ${JSON.stringify(want.ids.map((id) => vocab[id]))}`,
          );
      } else if (JSON.stringify(toCodePointOffsets(text, got.offsets)) !== JSON.stringify(want.offsets)) {
        if (offsetMismatches++ < 5) console.log(`offsets differ on text ${i}: ${JSON.stringify(text).slice(0, 200)}`);
      }
    });
    console.log(`texts: ${texts.length}, tokens: ${tokens}`);
    console.log(`id mismatches: ${idMismatches}, offset mismatches: ${offsetMismatches}`);
    const rate = (s: number) => `${Math.round(texts.length / s)} texts/s`;
    console.log(`pipewright (Node ${process.version}, one thread): ${oursS.toFixed(3)} s, ${rate(oursS)}`);
    console.log(
      `tokenizers encode (one thread):            ${timing.sequential_s.toFixed(3)} s, ${rate(timing.sequential_s)}`,
    );
    console.log(`tokenizers encode_batch (all cores):       ${timing.batch_s.toFixed(3)} s, ${rate(timing.batch_s)}`);
    console.log(`throughput ratio, pipewright / tokenizers encode: ${(timing.sequential_s / oursS).toFixed(2)}x`);
    console.log(`throughput ratio, pipewright / tokenizers encode_batch: ${(timing.batch_s / oursS).toFixed(2)}x`);

    if (fixtureArg >= 0) {
      const size = Number(process.argv[fixtureArg + 1] ?? 3000);
      const step = Math.max(1, Math.floor(texts.length / size));
      const rows: string[] = [];
      for (let i = 0; i < texts.length && rows.length < size; i += step) {
        rows.push(JSON.stringify({ text: texts[i], ids: expected[i]!.ids, offsets: expected[i]!.offsets }));
      }
      writeFileSync(PARITY_FIXTURE, rows.join('\n') + '\n');
      console.log(`wrote ${rows.length} rows to ${PARITY_FIXTURE}`);
    }
    if (idMismatches + offsetMismatches > 0) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) main();
