import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { differences, SEQEVAL_FIXTURE } from '../../bench/seqeval-parity';
import { entities, entityMetrics, type EntityMetrics } from '../../ml/metrics/entity-metrics';

test('entity metrics equal Python seqeval’s on SNIPS slot tags and the edge cases, number for number', () => {
  // Written by `node dist/bench/seqeval-parity.js --write-fixture` from seqeval 1.2.2's own output.
  const fixture = JSON.parse(readFileSync(SEQEVAL_FIXTURE, 'utf8')) as {
    actual: string[][];
    predicted: string[][];
    seqeval: EntityMetrics;
  };
  const ours = entityMetrics(fixture.actual, fixture.predicted);
  assert.deepEqual(differences(ours, fixture.seqeval), []);
  assert.ok(fixture.seqeval.perType.length > 5, 'many slot types are scored');
  assert.ok(ours.f1 > 0 && ours.f1 < 1);
});

test('CoNLL semantics: I- without B- opens an entity, a type change ends one, sequences do not run together', () => {
  assert.deepEqual(entities([['O', 'I-ORG', 'I-ORG', 'O']]), [{ type: 'ORG', start: 1, end: 2 }]);
  assert.deepEqual(entities([['B-LOC', 'I-PER']]), [
    { type: 'LOC', start: 0, end: 0 },
    { type: 'PER', start: 1, end: 1 },
  ]);
  // Each sequence is followed by an O, so positions count on across sequences.
  assert.deepEqual(entities([['B-PER'], ['I-PER']]), [
    { type: 'PER', start: 0, end: 0 },
    { type: 'PER', start: 2, end: 2 },
  ]);
  const scores = entityMetrics([['B-PER', 'I-PER', 'O']], [['B-PER', 'O', 'O']]);
  assert.equal(scores.f1, 0, 'an entity counts only with both ends right');
  assert.equal(scores.accuracy, 2 / 3);
  assert.throws(() => entityMetrics([['O']], [['O', 'O']]), /1 true tags but 2 predicted/);
});
