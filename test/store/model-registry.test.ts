import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ArtifactRef } from '../../core/artifacts';
import { ModelRegistry, RegistryError, type ModelVersion } from '../../store/model-registry';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ref = (sha256: string): ArtifactRef => ({ kind: 'checkpoint', uri: `file:///${sha256}`, sha256, bytes: 1 });

function entry(deployKey: string, f1: number): Omit<ModelVersion, 'version' | 'createdAt'> {
  return {
    name: 'intents',
    task: 'classification',
    checkpoint: ref(`c-${deployKey}`),
    tokenizer: ref('t'),
    labels: ['a', 'b'],
    metrics: { accuracy: f1, f1_macro: f1, loss: 1 - f1 },
    lineage: { pipeline: 'p', workflowId: 'w', runId: 'r', step: 'deploy', parents: [] },
    deployKey,
  };
}

test('versions are numbered in order, and the same deploy key never makes a second version, even concurrently', async () => {
  const registry = new ModelRegistry(join(dir, 'a'));
  const racing = await Promise.all([1, 2, 3, 4].map(() => registry.register(entry('run1/deploy', 0.9))));
  assert.deepEqual(new Set(racing.map((v) => v.version)), new Set([1]));
  const distinct = await Promise.all(['run2', 'run3', 'run4'].map((k) => registry.register(entry(`${k}/deploy`, 0.9))));
  assert.deepEqual(distinct.map((v) => v.version).sort(), [2, 3, 4]);
  assert.deepEqual(
    (await registry.versions('intents')).map((v) => v.version),
    [1, 2, 3, 4],
  );
  assert.equal(await registry.current('intents'), undefined, 'registering does not deploy');
});

test('promotion is recorded; rollback returns to the previous deployed version or to a chosen one', async () => {
  const registry = new ModelRegistry(join(dir, 'b'));
  for (const key of ['r1', 'r2', 'r3']) {
    const v = await registry.register(entry(key, 0.9));
    await registry.promote('intents', v.version);
  }
  assert.equal((await registry.current('intents'))!.version, 3);
  await registry.rollback('intents');
  assert.equal((await registry.current('intents'))!.version, 2);
  await registry.rollback('intents');
  assert.equal((await registry.current('intents'))!.version, 1);
  await assert.rejects(registry.rollback('intents'), /no earlier deployed version/);
  await registry.rollback('intents', 3);
  assert.equal((await registry.current('intents'))!.version, 3);
  await assert.rejects(registry.rollback('intents', 9), /has no version 9/);
  const history = await registry.history('intents');
  assert.deepEqual(
    history.map((p) => [p.reason, p.from ?? null, p.version]),
    [
      ['deploy', null, 1],
      ['deploy', 1, 2],
      ['deploy', 2, 3],
      ['rollback', 3, 2],
      ['rollback', 2, 1],
      ['rollback', 1, 3],
    ],
  );
  await assert.rejects(registry.current('../etc'), RegistryError);
  assert.deepEqual(await registry.names(), ['intents']);
});
