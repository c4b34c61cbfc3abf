import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createActivities, type StepInput, type StepResult } from '../../activities';
import { truncateIds } from '../../ml/tokenizers/truncate';
import type { ArtifactRef } from '../../core/artifacts';
import { readDataset, writeDataset, type Row } from '../../store/arrow-io';
import { loadConfig, PROJECT_ROOT } from '../../worker/config';
import { activityDeps } from '../../worker/create-workers';

const home = mkdtempSync(join(tmpdir(), 'pipewright-data-steps-'));
after(() => rmSync(home, { recursive: true, force: true }));
const deps = activityDeps({ ...loadConfig({}), home, pipelinesDir: join(PROJECT_ROOT, 'pipelines') });
const activities = createActivities(deps);
const env = new MockActivityEnvironment();

type Inputs = Record<string, ArtifactRef>;
const call = (
  fn: (i: StepInput) => Promise<StepResult>,
  withValues: Record<string, unknown>,
  inputs: Inputs = {},
): Promise<StepResult> =>
  env.run(fn, {
    run: { workflowId: 'wf', runId: 'run', pipeline: 'p', dir: join(PROJECT_ROOT, 'pipelines') },
    stepId: 's',
    with: withValues,
    inputs,
    cache: false,
  });
const ref = (result: StepResult, name = 'dataset') => result.outputs[name] as ArtifactRef;

async function chunksOf(artifact: ArtifactRef): Promise<Row[][]> {
  const chunks: Row[][] = [];
  for await (const chunk of readDataset(deps.store, artifact)) chunks.push(chunk);
  return chunks;
}

let snips: ArtifactRef;
before(async () => {
  snips = ref(
    await call(activities.load, {
      path: 'data/snips-intents-sample.jsonl',
      columns: { text: 'text', label: 'intent' },
    }),
  );
});

describe('split', () => {
  test('stratified split keeps every label’s share exactly, and the same seed gives the same split', async () => {
    const result = await call(
      activities.split,
      { train: 0.5, validation: 0.25, test: 0.25, seed: 7, stratify_by: 'label' },
      { dataset: snips },
    );
    assert.deepEqual(
      [result.outputs.train_rows, result.outputs.validation_rows, result.outputs.test_rows],
      [140, 70, 70],
    );
    const perLabel = (rows: Row[]) =>
      rows.reduce<Record<string, number>>(
        (acc, r) => ({ ...acc, [r.label as string]: (acc[r.label as string] ?? 0) + 1 }),
        {},
      );
    const train = (await chunksOf(ref(result, 'train'))).flat();
    assert.deepEqual(
      Object.values(perLabel(train)),
      [20, 20, 20, 20, 20, 20, 20],
      '40 per label in, 20 per label in train',
    );
    const again = await call(
      activities.split,
      { train: 0.5, validation: 0.25, test: 0.25, seed: 7, stratify_by: 'label' },
      { dataset: snips },
    );
    assert.equal(ref(again, 'train').sha256, ref(result, 'train').sha256);
    const other = await call(
      activities.split,
      { train: 0.5, validation: 0.25, test: 0.25, seed: 8, stratify_by: 'label' },
      { dataset: snips },
    );
    assert.notEqual(ref(other, 'train').sha256, ref(result, 'train').sha256);
  });

  test('ratios that do not add up to 1 are refused', async () => {
    const error = await call(activities.split, { train: 0.8, validation: 0.3, test: 0 }, { dataset: snips }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
    assert.match(error.message, /must add up to 1, but 0\.8 \+ 0\.3 \+ 0 = 1\.1/);
  });
});

describe('tokenize and pad', () => {
  test('trains a vocabulary on train, records labels, and the test split reuses both', async () => {
    const parts = await call(
      activities.split,
      { train: 0.8, validation: 0, test: 0.2, seed: 1, stratify_by: 'label' },
      { dataset: snips },
    );
    const trained = await call(
      activities.tokenize,
      { vocab_size: 600, min_frequency: 2 },
      { dataset: ref(parts, 'train') },
    );
    assert.equal(trained.outputs.vocab_size, 600);
    const testSplit = await call(
      activities.tokenize,
      {},
      { dataset: ref(parts, 'test'), tokenizer: ref(trained, 'tokenizer') },
    );
    assert.equal(ref(testSplit, 'tokenizer').sha256, ref(trained, 'tokenizer').sha256);
    const [row] = (await chunksOf(ref(testSplit))).flat();
    const ids = row!.input_ids as number[];
    assert.equal(ids[0], 2, '[CLS] is id 2 in a trained vocabulary');
    assert.equal(ids[ids.length - 1], 3, '[SEP] is id 3');
    assert.equal((row!.token_start as number[]).length, ids.length);
    assert.equal(typeof row!.label_id, 'number');
  });

  test('a label the tokenizer never saw is refused with the row number', async () => {
    const trained = await call(activities.tokenize, { vocab: 'bert-base-uncased' }, { dataset: snips });
    const store = deps.store;
    const odd = await writeDataset(store, { kind: 'dataset' }, [
      [
        { text: 'hello', label: 'PlayMusic' },
        { text: 'hi', label: 'Dance' },
      ],
    ]);
    const error = await call(activities.tokenize, {}, { dataset: odd, tokenizer: ref(trained, 'tokenizer') }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApplicationFailure);
    assert.match(error.message, /^row 2: label "Dance" is not among the tokenizer's labels/);
  });

  test('pad truncates keeping [CLS] and [SEP], pads with the tokenizer’s id, and masks', async () => {
    const bert = await call(activities.tokenize, { vocab: 'bert-base-uncased' }, { dataset: snips });
    const padded = await call(
      activities.pad,
      { max_length: 8 },
      { dataset: ref(bert), tokenizer: ref(bert, 'tokenizer') },
    );
    const rows = (await chunksOf(ref(padded))).flat();
    assert.ok((padded.outputs.truncated as number) > 0);
    for (const r of rows) {
      const ids = r.input_ids as number[];
      assert.equal(ids.length, 8);
      assert.equal(ids[0], 101);
      assert.equal(ids[(r.length as number) - 1], 102);
      assert.deepEqual(
        r.attention_mask,
        ids.map((_, i) => (i < (r.length as number) ? 1 : 0)),
      );
      assert.ok(ids.slice(r.length as number).every((id) => id === 0));
    }
    const bucketed = await call(
      activities.pad,
      { max_length: 64, padding: 'bucket', buckets: [8, 16, 32] },
      { dataset: ref(bert), tokenizer: ref(bert, 'tokenizer') },
    );
    for (const r of (await chunksOf(ref(bucketed))).flat()) {
      const width = (r.input_ids as number[]).length;
      assert.equal(
        width,
        [8, 16, 32, 64].find((b) => b >= (r.length as number)),
        'the smallest bucket that fits',
      );
    }
  });

  test('truncation from the start keeps the tail of the text', () => {
    assert.deepEqual(truncateIds([101, 1, 2, 3, 4, 102], 4, 'start', { start: 101, end: 102 }), [101, 3, 4, 102]);
    assert.deepEqual(truncateIds([1, 2, 3, 4], 2, 'end', {}), [1, 2]);
  });
});

describe('batch', () => {
  test('one record batch per training batch; the order is a permutation fixed by (seed, epoch)', async () => {
    const run = (epoch: number, extra: Record<string, unknown> = {}) =>
      call(activities.batch, { batch_size: 32, seed: 3, epoch, ...extra }, { dataset: snips });
    const epoch0 = await run(0);
    const chunks = await chunksOf(ref(epoch0));
    assert.deepEqual(
      chunks.map((c) => c.length),
      [32, 32, 32, 32, 32, 32, 32, 32, 24],
    );
    assert.equal(epoch0.outputs.batches, 9);
    const texts = (c: Row[][]) => c.flat().map((r) => r.text as string);
    const source = texts(await chunksOf(snips));
    assert.deepEqual([...texts(chunks)].sort(), [...source].sort(), 'every row exactly once');
    assert.notDeepEqual(texts(chunks), source, 'shuffled');
    assert.deepEqual(texts(await chunksOf(ref(await run(0)))), texts(chunks), 'same seed and epoch, same order');
    assert.notDeepEqual(texts(await chunksOf(ref(await run(1)))), texts(chunks), 'another epoch, another order');
    const dropped = await chunksOf(ref(await run(0, { drop_last: true })));
    assert.equal(dropped.length, 8);
    const plain = await chunksOf(ref(await run(0, { shuffle: false })));
    assert.deepEqual(texts(plain), source);
  });

  test('the external shuffle spans several spill partitions and still yields each row once', async () => {
    const rows = Array.from({ length: 150_000 }, (_, i) => ({ n: i }));
    const chunks: Row[][] = [];
    for (let i = 0; i < rows.length; i += 10_000) chunks.push(rows.slice(i, i + 10_000));
    const big = await writeDataset(deps.store, { kind: 'dataset' }, chunks);
    const batched = await call(activities.batch, { batch_size: 1000, seed: 1 }, { dataset: big });
    const seen = new Uint8Array(150_000);
    let moved = 0;
    let position = 0;
    for (const chunk of await chunksOf(ref(batched))) {
      for (const row of chunk) {
        seen[row.n as number] = seen[row.n as number]! + 1;
        if (row.n !== position++) moved++;
      }
    }
    assert.ok(seen.every((count) => count === 1));
    assert.ok(moved > 149_000, `${moved} rows moved`);
  });

  test('bucket_by_length groups similar lengths into a batch', async () => {
    const bert = await call(activities.tokenize, { vocab: 'bert-base-uncased' }, { dataset: snips });
    const padded = await call(
      activities.pad,
      { max_length: 64, padding: 'bucket', buckets: [16, 32] },
      { dataset: ref(bert), tokenizer: ref(bert, 'tokenizer') },
    );
    const batched = await call(activities.batch, { batch_size: 16, bucket_by_length: true }, { dataset: ref(padded) });
    const spreads = (await chunksOf(ref(batched))).map(
      (c) => Math.max(...c.map((r) => r.length as number)) - Math.min(...c.map((r) => r.length as number)),
    );
    // All but the last batch are full ones cut from a length-sorted pool; the last takes the leftovers.
    assert.ok(Math.max(...spreads.slice(0, -1)) <= 4, `length spread per batch ${spreads.join(',')}`);
  });
});
