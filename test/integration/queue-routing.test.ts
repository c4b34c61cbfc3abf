import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { progressQuery, type PipelineResult } from '../../workflows/pipeline';
import { startTestServer, type TestServer } from '../support/test-server';
import { PROJECT_ROOT } from '../../worker/config';
import { envFor } from '../support/run-cli';
import { tfjsNodeGpuInstalled } from '../support/tfjs-node-gpu';
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

test('a GPU worker that finds no usable GPU says so, and which backend it trains on instead', async () => {
  const config = env.config();
  const worker = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), 'worker', '--queue', 'gpu'], {
    env: { ...process.env, ...envFor(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('worker polling')) resolve();
      });
      void exited.then((code) => reject(new Error(`the worker exited with ${code}: ${output}`)));
    });
  } finally {
    worker.kill('SIGINT');
  }
  assert.equal(await exited, 0);
  // No machine here has a GPU; whether tfjs-node-gpu is installed (`pipewright setup --gpu`) decides what it says.
  assert.match(
    output,
    tfjsNodeGpuInstalled
      ? /no usable GPU: tfjs-node-gpu loaded, but TensorFlow found no CUDA device \(no GPU, or no driver\); GPU steps train on TensorFlow on the CPU instead\n/
      : /no usable GPU: tfjs-node-gpu is not installed \(`pipewright setup --gpu` installs it\); GPU steps train on the tensorflow backend on the CPU instead\n/,
  );
  assert.match(output, new RegExp(`worker polling ${config.taskQueue}-gpu on`));
});
