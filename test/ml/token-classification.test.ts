import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenClassification } from '../../ml/tasks/token-classification';
import { IGNORED_LABEL } from '../../ml/tokenizers/task-encoding';
import { TrainingDataError } from '../../ml/train/dataset-batches';

const row = (extra: Record<string, unknown> = {}) => ({
  input_ids: [2, 10, 11, 3, 0],
  attention_mask: [1, 1, 1, 1, 0],
  tag_ids: [IGNORED_LABEL, 1, IGNORED_LABEL, IGNORED_LABEL, IGNORED_LABEL],
  word_ids: [-1, 0, 0, -1, -1],
  word_tag_ids: [1, 2],
  ...extra,
});

test('token batches carry per-token labels, words and every word’s true tag', () => {
  const batch = tokenClassification.batch(
    [row(), row({ tag_ids: [IGNORED_LABEL, 0, 2, IGNORED_LABEL, IGNORED_LABEL] })],
    3,
  );
  assert.equal(batch.labels.length, 10);
  assert.deepEqual(Array.from(batch.labels.subarray(5, 10)), [IGNORED_LABEL, 0, 2, IGNORED_LABEL, IGNORED_LABEL]);
  assert.deepEqual(Array.from(batch.wordIds.subarray(0, 5)), [-1, 0, 0, -1, -1]);
  assert.deepEqual(batch.wordTags, [
    [1, 2],
    [1, 2],
  ]);
});

test('rows a tagger cannot use are refused naming the row and what to do', () => {
  const refuses = (rows: object[], pattern: RegExp) =>
    assert.throws(
      () => tokenClassification.batch(rows as never, 3),
      (error: Error) => error instanceof TrainingDataError && pattern.test(error.message),
    );
  refuses(
    [row({ tag_ids: undefined })],
    /row 0 has no tag_ids column: tokenize the data with task: token_classification/,
  );
  refuses(
    [row(), row({ tag_ids: [IGNORED_LABEL, 7, 0, 0, 0] })],
    /row 1: tag id 7 is not a tag of the tokenizer \(0..2\)/,
  );
  refuses(
    [row({ word_ids: [-1, 0] })],
    /row 0: word_ids has 2 entries for 5 tokens: pad the dataset after tokenizing it/,
  );
});
