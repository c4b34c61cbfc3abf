import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MicroBatcher } from '../../serve/micro-batcher';

test('concurrent requests are grouped into batches of at most maxBatch, each request kept whole and in order', async () => {
  const calls: number[][] = [];
  const batcher = new MicroBatcher<number, number>(
    (items) => {
      calls.push(items);
      return items.map((x) => x * 10);
    },
    { maxBatch: 8, maxWaitMs: 20 },
  );
  const requests = [[1], [2, 3], [4, 5, 6], [7], [8, 9, 10, 11], [12]];
  const answers = await Promise.all(requests.map((r) => batcher.submit(r)));
  assert.deepEqual(
    answers,
    requests.map((r) => r.map((x) => x * 10)),
  );
  assert.ok(calls.length < requests.length, `${calls.length} model calls for ${requests.length} requests`);
  for (const call of calls) assert.ok(call.length <= 8);
  assert.deepEqual(calls.flat(), requests.flat(), 'nothing lost, nothing reordered');
});

test('with maxBatch 1 every request is its own call; a failing call fails only its requests', async () => {
  let calls = 0;
  const batcher = new MicroBatcher<number, number>(
    (items) => {
      calls++;
      if (items[0] === 13) throw new Error('unlucky');
      return items;
    },
    { maxBatch: 1, maxWaitMs: 5 },
  );
  const results = await Promise.allSettled([batcher.submit([1]), batcher.submit([13]), batcher.submit([2])]);
  assert.equal(calls, 3);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
});
