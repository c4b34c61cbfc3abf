import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { PARITY_FIXTURE, toCodePointOffsets } from '../../bench/wordpiece-parity';
import { bertBaseUncasedTokenizer } from '../../ml/tokenizers/vocab-files';

const tokenizer = bertBaseUncasedTokenizer();

describe('WordPiece with the bert-base-uncased vocabulary', () => {
  test('matches Hugging Face tokenizers id for id and offset for offset on 3000 shared-data texts', () => {
    const rows = readFileSync(PARITY_FIXTURE, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { text: string; ids: number[]; offsets: [number, number][] });
    assert.equal(rows.length, 3000);
    for (const row of rows) {
      const got = tokenizer.encodeWithSpecialTokens(row.text);
      assert.deepEqual(got.ids, row.ids, row.text);
      assert.deepEqual(toCodePointOffsets(row.text, got.offsets), row.offsets, row.text);
    }
  });

  test('BERT normalization edge cases: accents, final sigma, controls, CJK, long words', () => {
    const tokens = (text: string) => tokenizer.encode(text).tokens;
    assert.deepEqual(tokens('Crème Brûlée'), tokens('creme brulee'));
    assert.deepEqual(tokens('Café'), ['cafe']);
    assert.deepEqual(tokens('ΟΔΟΣ'), tokens('οδοσ'), 'per-character lowercase: no final sigma');
    assert.deepEqual(tokens('a\u200bb\u0000c\tde'), ['abc', 'de']);
    assert.deepEqual(tokens('東京'), ['東', '京']);
    assert.deepEqual(tokens('x'.repeat(101)), ['[UNK]']);
    assert.deepEqual(tokenizer.encode('$5+3=8').tokens, ['$', '5', '+', '3', '=', '8']);
  });

  test('offsets point into the original text, surrogate pairs included', () => {
    const text = 'Pizza 🍕 time, naïve!';
    const { tokens, offsets } = tokenizer.encode(text);
    assert.deepEqual(
      tokens.map((t, i) => [t, text.slice(...offsets[i]!)]),
      [
        ['pizza', 'Pizza'],
        ['[UNK]', '🍕'],
        ['time', 'time'],
        [',', ','],
        ['naive', 'naïve'],
        ['!', '!'],
      ],
    );
  });
});
