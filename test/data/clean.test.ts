import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RowCleaner, type RowCleaning } from '../../data/clean-rows';
import { cleanText, stripHtml, type TextCleaning } from '../../data/clean-text';

const TEXT: TextCleaning = {
  normalize: 'NFKC',
  lowercase: false,
  strip_html: true,
  strip_control: true,
  collapse_whitespace: true,
  mask_urls: false,
  mask_emails: false,
  mask_numbers: false,
};
const ROWS: RowCleaning = {
  ...TEXT,
  text_column: 'text',
  label_column: 'label',
  answers_column: 'answers',
  question_column: 'question',
  drop_empty: true,
  dedupe: true,
  min_length: 0,
  max_bad_fraction: 0.05,
};

describe('text cleaning', () => {
  test('strips markup and decodes entities, dropping script and style bodies', () => {
    assert.equal(
      stripHtml('<p>Fish &amp; chips</p><script>alert(1)</script>&#x2764;&#65;&nbsp;x'),
      ' Fish & chips  ❤A\u00a0x',
    );
    assert.equal(cleanText('<b>Play</b>\u200b   some\tjazz\u0007 ', TEXT), 'Play some jazz');
  });

  test('applies NFKC, lowercase and masks', () => {
    assert.equal(cleanText('ＡＢＣ ﬁne ①', { ...TEXT, lowercase: true }), 'abc fine 1');
    const masked = cleanText('Mail a.b@example.org or see https://x.test/a?b=1 at 10:30, room 4.5', {
      ...TEXT,
      mask_urls: true,
      mask_emails: true,
      mask_numbers: true,
    });
    assert.equal(masked, 'Mail <email> or see <url> at <num>:<num>, room <num>');
  });
});

describe('row cleaning', () => {
  test('quarantines each kind of bad row with its reason, and drops duplicates', () => {
    const cleaner = new RowCleaner({ ...ROWS, min_length: 3, max_length: 20, labels: ['A', 'B'] }, { label: true });
    const verdicts = [
      { text: 'Hello  <i>world</i>', label: 'A' },
      { text: 'hello world', label: 'A' },
      { text: 'Hello world', label: 'A' },
      { text: 'Hello world', label: 'B' },
      { text: null, label: 'A' },
      { text: 42, label: 'A' },
      { text: ' <br> ', label: 'A' },
      { text: 'hi', label: 'A' },
      { text: 'x'.repeat(21), label: 'A' },
      { text: 'no label here', label: '' },
      { text: 'wrong label', label: 'C' },
      { text: 'two labels', label: ['A', 'B'] },
      { text: 'an object label', label: { name: 'A' } },
    ].map((row) => cleaner.judge(row));
    assert.deepEqual(verdicts, [
      { keep: { text: 'Hello world', label: 'A' } },
      { keep: { text: 'hello world', label: 'A' } },
      { duplicate: true },
      { keep: { text: 'Hello world', label: 'B' } },
      { quarantine: 'text is missing' },
      { quarantine: 'text is not text (number)' },
      { quarantine: 'text is empty after cleaning' },
      { quarantine: 'text is shorter than 3 characters (2)' },
      { quarantine: 'text is longer than 20 characters (21)' },
      { quarantine: 'label is missing' },
      { quarantine: 'label "C" is not one of the allowed labels' },
      { quarantine: 'label is not one label (a list)' },
      { quarantine: 'label is not one label (object)' },
    ]);
  });

  test('counts characters, not UTF-16 units, for length limits', () => {
    const cleaner = new RowCleaner({ ...ROWS, max_length: 3 }, { label: false });
    assert.deepEqual(cleaner.judge({ text: '🍕🍕🍕' }), { keep: { text: '🍕🍕🍕' } });
  });

  test('question answering: answers follow their context through cleaning, or the row is quarantined saying why', () => {
    const cleaner = new RowCleaner(ROWS, { label: false, answers: true, question: true });
    const text = '<b>Super Bowl</b>  50:\u200b the   Broncos beat the Panthers 🏈 in the  Bay Area.';
    const answers = (...pairs: [string, number][]) => ({
      text: pairs.map((p) => p[0]),
      answer_start: pairs.map((p) => p[1]),
    });
    const at = (needle: string, from = 0) => [...text.slice(0, text.indexOf(needle, from))].length;
    const verdict = cleaner.judge({
      text,
      question: ' Who  won? ',
      // The second "the" (before Panthers), and an answer after an astral character.
      answers: answers(['the', at('the Panthers')], ['Bay Area', at('Bay Area')]),
    });
    assert.ok('keep' in verdict, JSON.stringify(verdict));
    const kept = verdict.keep as {
      text: string;
      question: string;
      answers: { text: string[]; answer_start: number[] };
    };
    assert.equal(kept.text, 'Super Bowl 50: the Broncos beat the Panthers 🏈 in the Bay Area.');
    assert.equal(kept.question, 'Who won?');
    const points = [...kept.text];
    const found = kept.answers.text.map((answer, i) =>
      points.slice(kept.answers.answer_start[i], kept.answers.answer_start[i]! + [...answer].length).join(''),
    );
    assert.deepEqual(found, ['the', 'Bay Area']);
    assert.equal(points.slice(kept.answers.answer_start[0]).join('').slice(0, 12), 'the Panthers', 'the same "the"');
    assert.equal(verdict.movedAnswers, 2);

    const quarantined = [
      { text, question: 'Who?', answers: answers(['Broncos', 3]) },
      { text, question: 'Who?', answers: { text: ['Broncos'] } },
      { text, question: 'Who?', answers: answers(['\u200b', at('\u200b')]) },
      { text, question: '   ', answers: answers(['Broncos', at('Broncos')]) },
    ].map((row) => cleaner.judge(row));
    assert.deepEqual(quarantined, [
      { quarantine: 'answers 1 is not at its answer_start in text' },
      { quarantine: 'answers is not {"text": [...], "answer_start": [...]} with one start per text' },
      { quarantine: 'answers 1 is no longer in text after cleaning' },
      { quarantine: 'question is missing or empty after cleaning' },
    ]);
    // Questions about one context are not duplicates of each other; the same question again is.
    const other = { text, question: 'Who lost?', answers: answers(['Panthers', at('Panthers')]) };
    assert.ok('keep' in cleaner.judge(other));
    assert.deepEqual(cleaner.judge(other), { duplicate: true });
  });
});
