import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactMatch, normalizeAnswer, squadScores, tokenF1 } from '../../ml/metrics/squad-metrics';
import { bestAnswers, windowCandidates } from '../../ml/tasks/answer-spans';
import { spanOptions } from '../../ml/tasks/question-answering';

test('answers are normalized as SQuAD v1.1 scores them: case, punctuation, articles, whitespace', () => {
  assert.equal(normalizeAnswer('The  Denver Broncos!'), 'denver broncos');
  assert.equal(normalizeAnswer('an apple, a pear and THE plum.'), 'apple pear and plum');
  // Articles go only as whole words; "theatre" and "Anna" stay.
  assert.equal(normalizeAnswer('theatre of Anna'), 'theatre of anna');
  // Punctuation is ASCII only; non-ASCII letters are word characters, so "àa" keeps its "a".
  assert.equal(normalizeAnswer('«café» àa a\u00a0b'), '«café» àa b');
  assert.equal(normalizeAnswer('1,000-year'), '1000year');
});

test('exact match and F1 compare normalized answers; a question takes its best gold answer', () => {
  assert.equal(exactMatch('the Broncos', 'Broncos.'), 1);
  assert.equal(exactMatch('Denver Broncos', 'Broncos'), 0);
  // 1 shared token of 2 predicted and 1 gold: precision 0.5, recall 1.
  assert.equal(tokenF1('Denver Broncos', 'Broncos'), 2 / 3);
  assert.equal(tokenF1('a', 'Broncos'), 0, 'an answer normalized to nothing shares nothing');
  // Repeated tokens count as often as both sides have them.
  assert.equal(tokenF1('very very good', 'very good'), 0.8);
  const scores = squadScores([
    { prediction: 'Denver Broncos', golds: ['Broncos', 'the Denver Broncos'] },
    { prediction: 'Santa Clara', golds: ["Levi's Stadium"] },
  ]);
  assert.deepEqual(scores, { exactMatch: 0.5, f1: 0.5, questions: 2 });
});

test('spans pair the best starts and ends inside the context, within the answer length, over all windows', () => {
  // [CLS] q q [SEP] c0 c1 c2 c3 [SEP] — context tokens at character offsets 0-3, 4-8, 9-11, 12-17.
  const context = 'John went to Paris';
  const offsets = {
    contextStart: [-1, -1, -1, -1, 0, 5, 10, 13, -1],
    contextEnd: [-1, -1, -1, -1, 4, 9, 12, 18, -1],
  };
  const window = {
    // The best start is a question token and must be passed over; "Paris" is the best valid span.
    start: [0, 9, 0, 0, 1, 0, 0, 5, 0],
    end: [0, 0, 0, 0, 0, 0, 0, 6, 8],
    ...offsets,
  };
  const candidates = windowCandidates(window, { nBest: 3, maxAnswerLength: 30 });
  assert.ok(candidates.every((c) => c.start >= 0 && c.end > c.start));
  const answers = bestAnswers(candidates, context, { nBest: 3, maxAnswerLength: 30 });
  assert.equal(answers[0]!.text, 'Paris');
  assert.deepEqual([answers[0]!.start, answers[0]!.end, answers[0]!.score], [13, 18, 11]);
  assert.ok(Math.abs(answers.reduce((sum, a) => sum + a.probability, 0) - 1) < 1e-9);
  // A limit of one token rules out "John went to Paris" (start 4, end 7) but not "Paris".
  const long = windowCandidates(
    { ...window, start: [0, 0, 0, 0, 9, 0, 0, 1, 0], end: [0, 0, 0, 0, 0, 0, 0, 9, 0] },
    { nBest: 2, maxAnswerLength: 1 },
  );
  assert.deepEqual(
    long.map((c) => context.slice(c.start, c.end)),
    ['Paris'],
  );
  // The same span from two overlapping windows counts once, with its better score.
  const twice = bestAnswers(
    [
      { start: 13, end: 18, score: 2 },
      { start: 13, end: 18, score: 4 },
      { start: 0, end: 4, score: 3 },
    ],
    context,
    { nBest: 5, maxAnswerLength: 30 },
  );
  assert.deepEqual(
    twice.map((a) => [a.text, a.score]),
    [
      ['Paris', 4],
      ['John', 3],
    ],
  );
  assert.deepEqual(bestAnswers([], context, { nBest: 5, maxAnswerLength: 30 })[0]!.text, '');
});

test("a checkpoint's answers setting decides how spans are read; unset keys take the defaults", () => {
  assert.deepEqual(spanOptions({}), { nBest: 20, maxAnswerLength: 30 });
  assert.deepEqual(spanOptions({ answers: { n_best: 5, max_answer_length: 3 } }), { nBest: 5, maxAnswerLength: 3 });
  assert.deepEqual(spanOptions({ answers: { max_answer_length: 1 } }), { nBest: 20, maxAnswerLength: 1 });
});
