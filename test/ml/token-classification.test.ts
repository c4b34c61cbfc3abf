import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { EncoderModel } from '../../ml/models/encoder-model';
import { tokenClassification } from '../../ml/tasks/token-classification';
import { IGNORED_LABEL } from '../../ml/tokenizers/task-encoding';
import { TrainingDataError } from '../../ml/train/dataset-batches';

const CONFIG: EncoderConfig = {
  vocabSize: 30,
  maxLength: 5,
  layers: 1,
  hidden: 8,
  heads: 2,
  ffn: 16,
  dropout: 0,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'mean',
  classes: 3,
};

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

test('evaluation keeps the first sentences it tagged wrongly, with their words and both tag sequences', async () => {
  const { tf } = await loadBackend();
  const model = new EncoderModel(tf, CONFIG, tokenClassification.head, 4);
  const names = ['O', 'B-LOC', 'I-LOC'];
  const rows = Array.from({ length: 24 }, (_, i) =>
    row({
      input_ids: [2, 10 + (i % 7), 11 + (i % 5), 3, 0],
      tokens: i % 3 === 2 ? undefined : [`w${i}`, `v${i}`],
    }),
  );
  async function* batches() {
    for (let at = 0; at < rows.length; at += 8)
      yield await Promise.resolve(tokenClassification.batch(rows.slice(at, at + 8), 3));
  }
  const evaluation = await tokenClassification.evaluate(tf, model, batches(), { classNames: names, settings: {} });
  model.dispose();
  const tagged = evaluation.tagged!;
  assert.ok(tagged.length > 0 && tagged.length <= 10, `${tagged.length} sentences`);
  let previous = -1;
  for (const sentence of tagged) {
    const index = Number(sentence.words[0]!.slice(1));
    assert.ok(index > previous, 'in dataset order');
    assert.notEqual(index % 3, 2, 'rows without words are not shown');
    previous = index;
    assert.deepEqual(sentence.words, [`w${index}`, `v${index}`]);
    assert.deepEqual(sentence.actual, ['B-LOC', 'I-LOC']);
    assert.equal(sentence.predicted.length, 2);
    assert.notDeepEqual(sentence.predicted, sentence.actual);
  }
});
