import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { progressQuery, type PipelineResult } from '../../workflows/pipeline';
import { killHard, spawnTestWorker } from '../support/spawn-worker';
import { startTestServer, type TestServer } from '../support/test-server';

let env: TestServer;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.stop();
});

test('a worker killed with SIGKILL mid-step is replaced, and the run still completes', async () => {
  const config = env.config();
  const yaml = `
name: survives-worker-loss
steps:
  - id: long_step
    uses: wait
    with: { ms: 4000 }
    timeout: { start_to_close: 2m, heartbeat: 2s }
    retry: { max_attempts: 3, initial_interval: 100ms }
  - { id: after_long, uses: wait, with: { ms: 0 }, needs: [long_step] }
`;
  const first = await spawnTestWorker(config);
  let second: Awaited<ReturnType<typeof spawnTestWorker>> | undefined;
  try {
    const handle = await env.client.workflow.start('pipeline', {
      taskQueue: config.taskQueue,
      workflowId: `restart-${randomUUID()}`,
      args: [{ pipeline: yaml }],
    });
    for (let running = false; !running; await new Promise((r) => setTimeout(r, 100))) {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      running = progress?.steps[0]?.status === 'running';
    }
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await killHard(first);
    second = await spawnTestWorker(config);
    const result = (await handle.result()) as PipelineResult;
    assert.deepEqual(
      result.steps.map((s) => s.status),
      ['succeeded', 'succeeded'],
    );
    const rerun = result.steps[0]!.outputs as { started: number };
    assert.ok(rerun.started > killedAt, 'the step was run again by the new worker after the kill');
  } finally {
    await killHard(first);
    if (second) await killHard(second);
  }
});
