import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renderLineage } from '../../cli/commands/artifacts';
import { writeDataset } from '../../store/arrow-io';
import { collectGarbage } from '../../store/garbage-collect';
import { lineageOf, resolveArtifact } from '../../store/lineage';
import { openLocalState } from '../../worker/local-state';

const home = mkdtempSync(join(tmpdir(), 'pipewright-gc-'));
after(() => rmSync(home, { recursive: true, force: true }));

test('lineage walks back to sources; gc keeps what records and the cache reference, with ancestors', async () => {
  const { store, cache, runs } = openLocalState({ home });
  const made = (step: string, parents: string[], rows: Record<string, unknown>[], sources?: string[]) =>
    writeDataset(
      store,
      {
        kind: 'dataset',
        provenance: { workflowId: 'wf-1', step, activity: step, parents, ...(sources && { sources }) },
      },
      [rows],
    );
  const raw = await made('load', [], [{ text: 'a' }], ['/data/raw.jsonl']);
  const cleaned = await made('clean', [raw.sha256], [{ text: 'A' }]);
  const orphan = await made('load', [], [{ text: 'unused' }]);
  const old = await made('load', [], [{ text: 'old run' }]);

  const tree = await lineageOf(store, cleaned.sha256);
  assert.deepEqual(renderLineage(tree), [
    `dataset ${cleaned.sha256.slice(0, 12)}  clean (clean) in wf-1  1 rows, ${cleaned.bytes} bytes`,
    `└─ dataset ${raw.sha256.slice(0, 12)}  load (load) in wf-1  1 rows, ${raw.bytes} bytes`,
    '   └─ source /data/raw.jsonl',
  ]);
  assert.equal(resolveArtifact(await store.list(), cleaned.sha256.slice(0, 8)).sha256, cleaned.sha256);
  const all = await store.list();
  assert.throws(() => resolveArtifact(all, 'zzzz'), /no artifact's digest starts with "zzzz"/);

  await runs.record({
    workflowId: 'wf-1',
    runId: 'r',
    pipeline: 'p',
    step: 'clean',
    activity: 'clean',
    cached: false,
    finishedAt: '',
    outputs: { dataset: cleaned, rows: 1 },
  });
  await cache.save('old-key', { outputs: { dataset: old }, summary: '' });
  const entry = (await cache.entries())[0]!;
  const weekAgo = (Date.now() - 7 * 86_400_000) / 1000;
  utimesSync(entry.path, weekAgo, weekAgo);

  const dry = await collectGarbage(store, runs, cache, { dryRun: true });
  assert.deepEqual(
    dry.removed.map((a) => a.sha256),
    [orphan.sha256],
  );
  assert.equal(await store.verify(orphan), true, 'a dry run removes nothing');

  const expired = await collectGarbage(store, runs, cache, { dryRun: false, olderThanMs: 86_400_000 });
  assert.deepEqual(expired.removed.map((a) => a.sha256).sort(), [orphan.sha256, old.sha256].sort());
  assert.equal(expired.forgottenCacheEntries, 1);
  assert.equal(expired.kept, 2, 'the recorded dataset and its parent stay');
  assert.equal(await store.verify(raw), true);
  assert.equal(await store.verify(orphan), false);
});

test('gc keeps pinned artifacts, such as the mid-epoch checkpoints a training journal names', async () => {
  const gcHome = mkdtempSync(join(tmpdir(), 'pipewright-gc-pin-'));
  try {
    const { store, cache, runs, journal } = openLocalState({ home: gcHome });
    const write = (text: string) => writeDataset(store, { kind: 'dataset' }, [[{ text }]]);
    const inFlight = await write('resume point');
    const unreferenced = await write('nobody');
    await journal.append({ workflowId: 'wf', runId: 'r', step: 'train', epoch: 3 }, inFlight);
    const result = await collectGarbage(store, runs, cache, {
      dryRun: false,
      pinned: (await journal.all()).map((ref) => ref.sha256),
    });
    assert.deepEqual(
      result.removed.map((a) => a.sha256),
      [unreferenced.sha256],
    );
    assert.ok(await store.verify(inFlight));
  } finally {
    rmSync(gcHome, { recursive: true, force: true });
  }
});
