// Byte-level BPE parity and throughput against Hugging Face `tokenizers`: the reference trains a
// vocabulary on the shared chat data, and both tokenizers encode every text of ../shared/data with it.
// Usage: node dist/bench/bpe-parity.js [--write-fixture N]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readByteLevelBpeFiles } from '../ml/tokenizers/bpe-files';
import { ByteLevelBpeTokenizer } from '../ml/tokenizers/byte-level-bpe';
import { PROJECT_ROOT } from '../worker/config';
import { referencePython } from './reference-venv';
import { sharedTexts } from './shared-texts';
import { toCodePointOffsets } from './wordpiece-parity';

export const BPE_FIXTURE_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'bpe-parity');

function main(): void {
  const fixtureArg = process.argv.indexOf('--write-fixture');
  const texts = sharedTexts();
  const work = mkdtempSync(join(tmpdir(), 'pipewright-bpe-'));
  try {
    const chat = JSON.stringify;
    const training = readFileSync(join(PROJECT_ROOT, '..', 'shared', 'data', 'chatterbot-en', 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .flatMap((line) => {
        const row = JSON.parse(line) as { context: string[]; response: string };
        return [...row.context, row.response];
      });
    writeFileSync(join(work, 'train.jsonl'), training.map((text) => chat({ text })).join('\n') + '\n');
    writeFileSync(join(work, 'texts.jsonl'), texts.map((text) => chat({ text })).join('\n') + '\n');
    const timing = JSON.parse(
      execFileSync(
        referencePython(),
        [
          join(PROJECT_ROOT, 'bench', 'reference', 'hf_bpe.py'),
          join(work, 'train.jsonl'),
          join(work, 'texts.jsonl'),
          work,
          '2000',
        ],
        {
          encoding: 'utf8',
        },
      ),
    ) as { sequential_s: number };
    const expected = readFileSync(join(work, 'encoded.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ids: number[]; offsets: [number, number][] });
    const tokenizer = new ByteLevelBpeTokenizer(
      readByteLevelBpeFiles(join(work, 'vocab.json'), join(work, 'merges.txt')),
    );
    const started = process.hrtime.bigint();
    const ours = texts.map((text) => tokenizer.encode(text));
    const oursS = Number(process.hrtime.bigint() - started) / 1e9;
    let idMismatches = 0;
    let offsetMismatches = 0;
    texts.forEach((text, i) => {
      if (JSON.stringify(ours[i]!.ids) !== JSON.stringify(expected[i]!.ids)) {
        if (idMismatches++ < 5) console.log(`ids differ on text ${i}: ${JSON.stringify(text).slice(0, 160)}`);
      } else if (JSON.stringify(toCodePointOffsets(text, ours[i]!.offsets)) !== JSON.stringify(expected[i]!.offsets)) {
        if (offsetMismatches++ < 5) console.log(`offsets differ on text ${i}: ${JSON.stringify(text).slice(0, 160)}`);
      }
    });
    console.log(
      `texts: ${texts.length}; vocabulary ${tokenizer.vocabSize} trained by tokenizers on ${training.length} chat turns`,
    );
    console.log(`id mismatches: ${idMismatches}, offset mismatches: ${offsetMismatches}`);
    const rate = (s: number) => `${Math.round(texts.length / s)} texts/s`;
    console.log(`pipewright (one thread):        ${oursS.toFixed(3)} s, ${rate(oursS)}`);
    console.log(`tokenizers encode (one thread): ${timing.sequential_s.toFixed(3)} s, ${rate(timing.sequential_s)}`);
    console.log(`throughput ratio, pipewright / tokenizers encode: ${(timing.sequential_s / oursS).toFixed(2)}x`);
    if (fixtureArg >= 0) {
      const size = Number(process.argv[fixtureArg + 1] ?? 1000);
      mkdirSync(BPE_FIXTURE_DIR, { recursive: true });
      copyFileSync(join(work, 'vocab.json'), join(BPE_FIXTURE_DIR, 'vocab.json'));
      copyFileSync(join(work, 'merges.txt'), join(BPE_FIXTURE_DIR, 'merges.txt'));
      const step = Math.max(1, Math.floor(texts.length / size));
      const rows: string[] = [];
      for (let i = 0; i < texts.length && rows.length < size; i += step)
        rows.push(chat({ text: texts[i], ids: expected[i]!.ids, offsets: expected[i]!.offsets }));
      writeFileSync(join(BPE_FIXTURE_DIR, 'encoded.jsonl'), rows.join('\n') + '\n');
      console.log(`wrote ${rows.length} rows to ${BPE_FIXTURE_DIR}`);
    }
    if (idMismatches + offsetMismatches > 0) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) main();
