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
    const cleaner = new RowCleaner({ ...ROWS, min_length: 3, max_length: 20, labels: ['A', 'B'] }, true);
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
    ]);
  });

  test('counts characters, not UTF-16 units, for length limits', () => {
    const cleaner = new RowCleaner({ ...ROWS, max_length: 3 }, false);
    assert.deepEqual(cleaner.judge({ text: '🍕🍕🍕' }), { keep: { text: '🍕🍕🍕' } });
  });
});
