import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { progressQuery, type PipelineResult } from '../../workflows/pipeline';
import { startTestServer, type TestServer } from '../support/test-server';
import { startWorker } from '../support/with-worker';

let env: TestServer;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.stop();
});

test('a step with queue: gpu waits for a gpu worker; cpu steps run on the cpu worker', async () => {
  const config = env.config();
  const yaml = `
name: routing
steps:
  - { id: prepare, uses: wait, with: { ms: 0 } }
  - { id: train_like, uses: wait, with: { ms: 0 }, queue: gpu, needs: [prepare] }
`;
  const stopCpu = await startWorker(config, 'cpu');
  let stopGpu: (() => Promise<void>) | undefined;
  try {
    const handle = await env.client.workflow.start('pipeline', {
      taskQueue: config.taskQueue,
      workflowId: `route-${randomUUID()}`,
      args: [{ pipeline: yaml }],
    });
    for (let ready = false; !ready; await new Promise((r) => setTimeout(r, 100))) {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      ready = progress?.steps[1]?.status === 'running';
    }
    await new Promise((r) => setTimeout(r, 1500));
    const description = await handle.describe();
    const pending = description.raw.pendingActivities ?? [];
    assert.equal(pending.length, 1, 'the gpu step is scheduled but nobody polls its queue');
    assert.equal((await handle.query(progressQuery)).steps[1]?.status, 'running');
    stopGpu = await startWorker(config, 'gpu');
    const result = (await handle.result()) as PipelineResult;
    assert.deepEqual(
      result.steps.map((s) => [s.id, s.queue, s.status]),
      [
        ['prepare', 'cpu', 'succeeded'],
        ['train_like', 'gpu', 'succeeded'],
      ],
    );
  } finally {
    await stopGpu?.();
    await stopCpu();
  }
});
