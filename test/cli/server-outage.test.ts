import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, PROJECT_ROOT } from '../../worker/config';
import { freePort, startDevServer, type DevServer } from '../../worker/dev-server';
import { findTemporalCli } from '../../worker/temporal-cli';
import { approveSignal } from '../../workflows/pipeline';
import { envFor } from '../support/run-cli';
import { startWorker } from '../support/with-worker';

/** The bundled samples; an inline pipeline has no folder of its own to find them from. */
const DATA = join(PROJECT_ROOT, 'pipelines', 'data');

async function until(
  condition: () => boolean,
  what: () => string,
  timeoutMs: number,
  stopped: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline || stopped()) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('pipewright run keeps following its run while the Temporal server is down, says so, and exits 0 without a stack trace', async () => {
  process.env.PIPEWRIGHT_LOG_LEVEL ??= 'ERROR';
  const cli = await findTemporalCli({ install: true });
  const home = mkdtempSync(join(tmpdir(), 'pipewright-outage-'));
  const port = await freePort();
  const dbFile = join(home, 'temporal.sqlite');
  let server: DevServer = await startDevServer({ cli, port, dbFile });
  const config = {
    ...loadConfig({}),
    temporalAddress: server.address,
    taskQueue: `test-${randomUUID()}`,
    home,
    pipelinesDir: join(PROJECT_ROOT, 'pipelines'),
    dataRoots: [DATA],
  };
  const stopWorker = await startWorker(config);
  try {
    // The chatbot example, its deploy waiting for approval: while it waits, no step is in flight.
    const yaml = readFileSync(join(PROJECT_ROOT, 'pipelines', 'chatbot.yaml'), 'utf8').replace(
      '      metric: perplexity',
      '      metric: perplexity\n      approval: required',
    );
    const run = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, 'dist', 'cli', 'main.js'),
        'run',
        yaml,
        '--id',
        'outage-run',
        ...['--set', 'epochs=1', '--set', `train_source=${join(DATA, 'chatterbot-en-sample.jsonl')}`],
        ...['--set', `test_source=${join(DATA, 'chatterbot-en-test-sample.jsonl')}`],
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...envFor(config) }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let ended = false;
    const exited = new Promise<number | null>((resolve) => run.once('exit', resolve)).finally(() => (ended = true));
    const seen = () => `\n${stdout.slice(-3000)}\n${stderr.slice(-2000)}`;
    await until(
      () => stdout.includes('waiting for approval'),
      () => `the deploy to wait for approval${seen()}`,
      240_000,
      () => ended,
    );

    // The server goes away for longer than the client's own retries last, then comes back.
    await server.stop();
    await until(
      () => stdout.includes('Lost the Temporal server'),
      () => `the CLI to notice the outage${seen()}`,
      90_000,
      () => ended,
    );
    server = await startDevServer({ cli, port, dbFile });
    const connection = await Connection.connect({ address: server.address });
    try {
      await new Client({ connection }).workflow.getHandle('outage-run').signal(approveSignal, { approved: true });
    } finally {
      await connection.close();
    }
    assert.equal(await exited, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /The Temporal server answers again; following the run\./);
    assert.match(stdout, /Run outage-run succeeded\./);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await stopWorker();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
});
