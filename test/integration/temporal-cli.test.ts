import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/test-server';
import { withWorker } from '../support/with-worker';

const exec = promisify(execFile);
let env: TestServer;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.stop();
});

test('the temporal CLI starts a pipeline, queries its progress and reads its result like any Temporal app', async () => {
  const config = env.config();
  const workflowId = `cli-${randomUUID()}`;
  const address = ['--address', config.temporalAddress];
  await withWorker(config, async () => {
    await exec(env.cli, [
      'workflow',
      'start',
      ...address,
      '--type',
      'pipeline',
      '--task-queue',
      config.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ pipeline: 'snips-intent-data', params: { max_length: 90 } }),
    ]);
    const { stdout } = await exec(env.cli, [
      'workflow',
      'result',
      ...address,
      '--workflow-id',
      workflowId,
      '--output',
      'json',
    ]);
    const outcome = JSON.parse(stdout) as {
      status: string;
      result: { status: string; steps: { id: string; outputs: Record<string, number> }[] };
    };
    assert.equal(outcome.status, 'COMPLETED');
    assert.equal(outcome.result.status, 'succeeded');
    const clean = outcome.result.steps.find((s) => s.id === 'clean')!;
    assert.ok(clean.outputs.quarantined! > 0, 'max_length 90 from the input params quarantined the long queries');
    assert.equal(clean.outputs.rows! + clean.outputs.quarantined! + clean.outputs.duplicates!, 280);

    const query = await exec(env.cli, [
      'workflow',
      'query',
      ...address,
      '--workflow-id',
      workflowId,
      '--name',
      'progress',
      '--output',
      'json',
    ]);
    assert.match(query.stdout, /"status": "succeeded"/);
  });
});
