import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { largestDifference, SACREBLEU_FIXTURE, type ReferenceScores } from '../../bench/sacrebleu-parity';
import { corpusBleu, corpusChrf, distinctNGrams, tokenize13a } from '../../ml/metrics/generation-metrics';

test("BLEU and chrF are sacreBLEU's to the last bit, on ChatterBot replies edited and on edge cases", () => {
  // Written by `node dist/bench/sacrebleu-parity.js --write-fixture` from sacreBLEU 2.6.0's own output.
  const fixture = JSON.parse(readFileSync(SACREBLEU_FIXTURE, 'utf8')) as {
    hypotheses: string[];
    references: string[];
    sacrebleu: ReferenceScores;
  };
  assert.equal(largestDifference(fixture.hypotheses, fixture.references, fixture.sacrebleu), 0);
  assert.ok(fixture.sacrebleu.bleu > 10 && fixture.sacrebleu.bleu < 90, 'a score away from the extremes');
});

test('13a tokens split punctuation and symbols, but not inside numbers', () => {
  assert.deepEqual(tokenize13a('It costs $3.50, or 3,5 euros.'), [
    'It',
    'costs',
    '$',
    '3.50',
    ',',
    'or',
    '3,5',
    'euros',
    '.',
  ]);
  assert.deepEqual(tokenize13a('Call 555-1234 &amp; go'), ['Call', '555', '-', '1234', '&', 'go']);
});

test('the extremes: identical texts score 100, nothing in common 0, and empty hypotheses 0', () => {
  const texts = ['How are you today?', 'I am fine, thank you.'];
  assert.ok(Math.abs(corpusBleu(texts, texts).score - 100) < 1e-9);
  assert.equal(corpusChrf(texts, texts), 100);
  assert.equal(corpusBleu(['zzz qqq'], ['How are you?']).score, 0);
  assert.equal(corpusBleu(['', ''], texts).score, 0);
  assert.equal(corpusChrf(['', ''], texts), 0);
  assert.throws(() => corpusBleu(['a'], []), /1 hypotheses for 0 references/);
});

test('distinct-n is the share of unique n-grams among all generated', () => {
  assert.equal(distinctNGrams(['I am fine .', 'I am fine'], 1), 4 / 7);
  assert.equal(distinctNGrams(['I am fine .', 'I am fine'], 2), 3 / 5);
  assert.equal(distinctNGrams([''], 2), 0);
});
