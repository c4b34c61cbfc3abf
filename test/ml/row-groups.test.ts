import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_GROUP, rowGroup, sortGroups } from '../../ml/metrics/row-groups';

test('a row’s group is its column, or the first match (capture group first) of a pattern in it', () => {
  const byDomain = rowGroup({ column: 'domain' });
  assert.equal(byDomain({ domain: 'travel' }), 'travel');
  assert.equal(byDomain({ domain: 3 }), '3', 'non-text values group by their JSON text');
  assert.equal(byDomain({ domain: '' }), NO_GROUP);
  assert.equal(byDomain({ domain: null }), NO_GROUP);
  assert.equal(byDomain({}), NO_GROUP);
  const byTask = rowGroup({ column: 'id', match: 'qa\\d+' });
  assert.equal(byTask({ id: 'babi-en-qa12-test-s3-l9' }), 'qa12');
  assert.equal(byTask({ id: 'squad-0001' }), NO_GROUP, 'no match: the row is in no named group');
  const captured = rowGroup({ column: 'id', match: '-(qa\\d+)-' });
  assert.equal(captured({ id: 'babi-en-qa2-train' }), 'qa2', 'the capture group, without the dashes');
});

test('groups sort as people read them: qa2 before qa10, the ungrouped rows last', () => {
  assert.deepEqual(sortGroups(['qa10', NO_GROUP, 'qa2', 'qa1', 'b', 'a']), ['a', 'b', 'qa1', 'qa2', 'qa10', NO_GROUP]);
});
