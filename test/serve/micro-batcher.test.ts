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

test('a request that finds the model idle runs at once; those arriving meanwhile go together in the next batch', async () => {
  const calls: number[][] = [];
  let finishFirst: () => void = () => undefined;
  const batcher = new MicroBatcher<number, number>(
    async (items) => {
      calls.push(items);
      if (calls.length === 1) await new Promise<void>((resolve) => (finishFirst = resolve));
      return items;
    },
    { maxBatch: 8, maxWaitMs: 60_000 },
  );
  const started = performance.now();
  const first = batcher.submit([1, 2]);
  const sameTurn = batcher.submit([3]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls, [[1, 2, 3]], 'requests of one event-loop turn share the idle start');
  const behind = [4, 5, 6, 7, 8, 9, 10, 11].map((x) => batcher.submit([x]));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls.length, 1, 'nothing starts while a batch runs');
  finishFirst();
  assert.deepEqual(await Promise.all([first, sameTurn]), [[1, 2], [3]]);
  await Promise.all(behind);
  assert.deepEqual(calls.slice(1), [[4, 5, 6, 7, 8, 9, 10, 11]], 'a full queue runs as soon as the batch ends');
  assert.ok(performance.now() - started < 10_000, 'neither batch waited maxWaitMs');
});

test('after a batch of several requests a new one waits maxWaitMs for company; after a lone one it does not', async () => {
  const calls: number[][] = [];
  const batcher = new MicroBatcher<number, number>(
    (items) => {
      calls.push(items);
      return items;
    },
    { maxBatch: 8, maxWaitMs: 2_000 },
  );
  await Promise.all([batcher.submit([1]), batcher.submit([2])]);
  let started = performance.now();
  await batcher.submit([3]);
  const waited = performance.now() - started;
  assert.ok(waited >= 1_900, `waited ${waited.toFixed(0)} ms after a batch of two`);
  started = performance.now();
  await batcher.submit([4]);
  const lone = performance.now() - started;
  assert.ok(lone < 1_000, `waited ${lone.toFixed(0)} ms after a lone request`);
  assert.deepEqual(calls, [[1, 2], [3], [4]]);
});
