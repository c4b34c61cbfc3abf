import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { devServerRecordPath, loadConfig, PROJECT_ROOT, type DevServerRecord } from '../../worker/config';
import { freePort } from '../../worker/dev-server';
import { progressQuery } from '../../workflows/pipeline';
import { launchChromium } from '../support/browser';

const exec = promisify(execFile);
const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const home = mkdtempSync(join(tmpdir(), 'pipewright-dev-'));
after(() => rmSync(home, { recursive: true, force: true }));

async function startDev(port: number, uiPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, 'dev', '--port', String(port), '--ui-port', String(uiPort)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PIPEWRIGHT_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`pipewright dev exited with ${code}: ${output}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // Both the workflow worker and the step worker are polling.
      if (output.includes('(workflows only)') && output.includes('(activities only)')) resolve();
    });
  });
  assert.match(output, new RegExp(`Web UI: http://127\\.0\\.0\\.1:${uiPort}`));
  return child;
}

async function stopDev(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  return exited;
}

/**
 * Opens a finished run's link in the real Web UI (headless Chromium) and checks that its current
 * details show the step table as aligned text, every column starting where its header does.
 */
async function checkWebUiDetails(link: string, defaultShot: string): Promise<void> {
  const { browser, missing } = await launchChromium();
  if (!browser) return void console.log(`# skipped the Web UI check: ${missing}`);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(link);
    await page.getByText('User Metadata', { exact: true }).click();
    const details = page.frameLocator('iframe[src*="steps%20finished"]');
    const table = (await details.locator('pre code').innerText({ timeout: 30_000 })).trimEnd().split('\n');
    assert.match(table[0]!, /^ {2}step +activity +status +time +result$/);
    assert.equal(table.length, 11, 'a header and the 10 steps of snips-intent-data');
    const columns = ['activity', 'status', 'time', 'result'].map((name) => table[0]!.indexOf(name));
    for (const row of table.slice(1)) {
      assert.match(row, /^✔ \S+ +\S+ +succeeded +\d+\.\ds +\S/);
      for (const column of columns) assert.match(row.slice(column - 2, column + 1), /^ {2}\S$/, `aligned: ${row}`);
    }
    assert.equal(await details.locator('table').count(), 0, 'no markdown table, which this UI draws run together');
    await page.screenshot({ path: process.env.PIPEWRIGHT_UI_SCREENSHOT ?? defaultShot });
  } finally {
    await browser.close();
  }
}

test('pipewright dev serves runs and keeps them across a restart; commands on its state folder find its ports', async () => {
  const [port, uiPort] = [await freePort(), await freePort()];
  // No TEMPORAL_ADDRESS or PIPEWRIGHT_UI_URL: the running dev server's record in the state folder says where it is.
  const env = Object.fromEntries(
    Object.entries({ ...process.env, PIPEWRIGHT_HOME: home }).filter(
      ([name]) => name !== 'TEMPORAL_ADDRESS' && name !== 'PIPEWRIGHT_UI_URL',
    ),
  );
  const first = await startDev(port, uiPort);
  try {
    const run = await exec(process.execPath, [MAIN, 'run', 'snips-intent-data', '--id', 'kept-run'], {
      cwd: PROJECT_ROOT,
      env,
    });
    assert.match(run.stdout, /Run kept-run succeeded\./);
    const link = `http://127.0.0.1:${uiPort}/namespaces/default/workflows/kept-run`;
    assert.ok(run.stdout.includes(link), 'the link follows the UI port dev chose');
    await checkWebUiDetails(link, join(home, 'web-ui.png'));
  } finally {
    assert.equal(await stopDev(first), 0, 'dev shuts down cleanly on Ctrl-C');
  }
  assert.equal(existsSync(devServerRecordPath(home)), false, 'a stopped dev server leaves no record');
  const second = await startDev(port, uiPort);
  try {
    const list = await exec(process.execPath, [MAIN, 'list'], { cwd: PROJECT_ROOT, env });
    assert.match(list.stdout, /kept-run\s+COMPLETED\s+snips-intent-data/);
  } finally {
    await stopDev(second);
  }
});

test('while steps compute for seconds, the run answers queries within two seconds: steps run in a process of their own', async (t) => {
  const [port, uiPort] = [await freePort(), await freePort()];
  const dev = await startDev(port, uiPort);
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const client = new Client({ connection });
    const handle = await client.workflow.start('pipeline', {
      taskQueue: loadConfig().taskQueue,
      workflowId: 'busy-run',
      args: [{ pipeline: 'chatbot', params: { epochs: 2 } }],
    });
    let finished = false;
    const result = handle.result().finally(() => (finished = true));
    const latencies: number[] = [];
    let whileComputing = 0;
    while (!finished) {
      const started = performance.now();
      const progress = await handle.query(progressQuery);
      latencies.push(performance.now() - started);
      if (progress.steps.some((s) => s.status === 'running' && ['tokenize', 'train', 'validate'].includes(s.uses)))
        whileComputing++;
      await new Promise((r) => setTimeout(r, 200));
    }
    await result;
    const slowest = Math.max(...latencies);
    t.diagnostic(
      `${latencies.length} progress queries, ${whileComputing} while a step computed; slowest ${slowest.toFixed(0)} ms`,
    );
    assert.ok(whileComputing >= 10, `${whileComputing} queries while tokenize, train or validate ran`);
    assert.ok(slowest < 2_000, `the slowest query took ${slowest.toFixed(0)} ms`);
  } finally {
    await connection.close();
    await stopDev(dev);
  }
});

test('pipewright dev starts its Temporal server again when the server dies; the runs it kept are still there', async () => {
  const [port, uiPort] = [await freePort(), await freePort()];
  const dev = await startDev(port, uiPort);
  let output = '';
  dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const record = JSON.parse(readFileSync(devServerRecordPath(home), 'utf8')) as DevServerRecord;
    process.kill(record.serverPid, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    while (!output.includes(`the Temporal dev server is back on 127.0.0.1:${port}`) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    assert.match(
      output,
      new RegExp(`the Temporal dev server \\(pid ${record.serverPid}\\) exited \\(SIGKILL\\); starting it again`),
    );
    const env = { ...process.env, PIPEWRIGHT_HOME: home, TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
    const list = await exec(process.execPath, [MAIN, 'list'], { cwd: PROJECT_ROOT, env });
    assert.match(list.stdout, /kept-run\s+COMPLETED\s+snips-intent-data/);
  } finally {
    assert.equal(await stopDev(dev), 0);
  }
});
