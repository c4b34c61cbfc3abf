import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BPE_FIXTURE_DIR } from '../../bench/bpe-parity';
import { toCodePointOffsets } from '../../bench/wordpiece-parity';
import { readByteLevelBpeFiles } from '../../ml/tokenizers/bpe-files';
import { ByteLevelBpeTokenizer } from '../../ml/tokenizers/byte-level-bpe';
import { PreTokenCounter, trainByteLevelBpe } from '../../ml/tokenizers/byte-level-bpe-trainer';

describe('byte-level BPE', () => {
  test('with a vocabulary trained by Hugging Face tokenizers, encodes 1000 shared-data texts exactly as it does', () => {
    const tokenizer = new ByteLevelBpeTokenizer(
      readByteLevelBpeFiles(join(BPE_FIXTURE_DIR, 'vocab.json'), join(BPE_FIXTURE_DIR, 'merges.txt')),
    );
    const rows = readFileSync(join(BPE_FIXTURE_DIR, 'encoded.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { text: string; ids: number[]; offsets: [number, number][] });
    assert.equal(rows.length, 1000);
    for (const row of rows) {
      const got = tokenizer.encode(row.text);
      assert.deepEqual(got.ids, row.ids, row.text);
      assert.deepEqual(toCodePointOffsets(row.text, got.offsets), row.offsets, row.text);
      assert.equal(tokenizer.decode(got.ids), row.text, 'decoding gives the text back');
    }
  });

  test('training learns frequent merges; any text encodes without unknown tokens and decodes back', () => {
    const counter = new PreTokenCounter();
    for (let i = 0; i < 50; i++) counter.add('the quick brown fox jumps over the lazy dog');
    const config = trainByteLevelBpe(counter.counts, {
      vocabSize: 300,
      minFrequency: 2,
      specialTokens: ['<pad>', '<|endoftext|>'],
    });
    assert.deepEqual(config.vocab.slice(0, 2), ['<pad>', '<|endoftext|>']);
    const tokenizer = new ByteLevelBpeTokenizer(config);
    assert.deepEqual(tokenizer.encode('the lazy dog').tokens, ['the', 'Ġlazy', 'Ġdog']);
    const odd = 'Ünïcödé 🍕 \u0000 tabs\tand\nlines';
    assert.equal(tokenizer.decode(tokenizer.encode(odd).ids), odd);
  });
});
