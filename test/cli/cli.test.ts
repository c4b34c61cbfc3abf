import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { PROJECT_ROOT } from '../../worker/config';
import { FIXTURES } from '../compiler/corpus';
import { envFor, pipewright } from '../support/run-cli';
import { startTestServer, type TestServer } from '../support/test-server';
import { withWorker } from '../support/with-worker';

describe('pipewright without a server', () => {
  test('every example pipeline validates', async () => {
    const examples = readdirSync(join(PROJECT_ROOT, 'pipelines')).filter((name) => name.endsWith('.yaml'));
    assert.ok(examples.includes('intent-given-splits.yaml'));
    const checked = await pipewright(['validate', ...examples.map((name) => join('pipelines', name))]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.stdout.match(/: valid \(\d+ steps\)/g)?.length, examples.length, checked.stdout);
  });

  test('validate: exit 0 for valid files, 2 with every problem for invalid ones, no stack traces', async () => {
    const ok = await pipewright([
      'validate',
      'pipelines/snips-intent-data.yaml',
      join(FIXTURES, 'valid', 'minimal.yaml'),
    ]);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /✔ pipelines\/snips-intent-data\.yaml: valid \(10 steps\)/);
    const bad = await pipewright([
      'validate',
      'pipelines/snips-intent-data.yaml',
      join(FIXTURES, 'invalid', 'unknown-refs.yaml'),
      'no-such-pipeline',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown-refs\.yaml:10:13: step "clean": needs unknown step "prepare"/);
    assert.match(bad.stderr, /✘ .*unknown-refs\.yaml: 5 problems/);
    assert.match(
      bad.stderr,
      /pipeline "no-such-pipeline" not found .*; pipelines in .*: (.*, )?snips-intent, snips-intent-data/,
    );
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });

  test('schema prints the whole published schema into a pipe (well over the 64 KiB a pipe holds)', async () => {
    const published = readFileSync(join(PROJECT_ROOT, 'pipelines', 'pipeline.schema.json'), 'utf8');
    assert.ok(published.length > 65_536);
    // A reader that starts late, as a pager or a busy consumer does: the CLI must wait for it.
    const main = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
    const { stdout } = await promisify(execFile)('/bin/sh', [
      '-c',
      `"${process.execPath}" "${main}" schema | (sleep 1; cat)`,
    ]);
    assert.equal(stdout, published);
  });

  test('graph prints the DAG as Mermaid', async () => {
    const { code, stdout } = await pipewright(['graph', join(FIXTURES, 'valid', 'everything.yaml')]);
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        'flowchart TD',
        '  load["load<br/><small>load</small>"]',
        '  clean["clean<br/><small>clean</small>"]',
        '  clean_strict{{"clean_strict<br/><small>clean · gpu · when</small>"}}',
        '  load -->|dataset| clean',
        '  clean -->|dataset| clean_strict',
        '  load -.-> clean_strict',
        '',
      ].join('\n'),
    );
  });

  test('run with a bad --set fails before contacting Temporal, naming the param', async () => {
    const { code, stderr } = await pipewright(['run', 'snips-intent-data', '--set', 'max_length=lots'], {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    assert.equal(code, 2);
    assert.match(
      stderr,
      /pipelines\/snips-intent-data\.yaml:\d+:\d+: param "max_length" must be an integer, not "lots"/,
    );
  });

  test('run against an unreachable server says how to start one', async () => {
    const { code, stderr } = await pipewright(['run', 'snips-intent-data'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(code, 1);
    assert.match(stderr, /cannot reach Temporal at 127\.0\.0\.1:1 .*\nStart a local server with `pipewright dev`/);
  });
});

describe('pipewright against a real dev server', () => {
  let env: TestServer;
  before(async () => {
    env = await startTestServer();
  });
  after(async () => {
    await env?.stop();
  });

  test('run --json streams step events and ends with the outcome; status and list read the run back', async () => {
    const config = env.config();
    await withWorker(config, async () => {
      const result = await pipewright(
        ['run', 'snips-intent-data', '--json', '--set', 'lowercase=false', '--id', 'cli-run-1', '--name', 'first'],
        envFor(config),
      );
      assert.equal(result.code, 0, result.stderr);
      const events = result.stdout
        .trim()
        .split('\n')
        .map(
          (line) => JSON.parse(line) as { event: string; id?: string; status?: string; url?: string; runId?: string },
        );
      assert.deepEqual(events[0], {
        event: 'started',
        workflowId: 'cli-run-1',
        runId: events[0]?.runId,
        url: 'http://127.0.0.1:8233/namespaces/default/workflows/cli-run-1',
      });
      const finalStatus = (id: string) => events.filter((e) => e.event === 'step' && e.id === id).pop()?.status;
      assert.equal(finalStatus('load'), 'succeeded');
      assert.equal(finalStatus('clean'), 'succeeded');
      assert.deepEqual(events[events.length - 1], { event: 'finished', status: 'succeeded' });

      const status = await pipewright(['status', 'cli-run-1'], envFor(config));
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^cli-run-1: COMPLETED/);
      assert.match(status.stdout, /✔ clean\s+clean\s+succeeded/);

      const list = await pipewright(['list'], envFor(config));
      assert.match(list.stdout, /cli-run-1\s+COMPLETED\s+snips-intent-data/);
      // Runs carry their pipeline as a search attribute: the list (and the Web UI's) filters by it.
      const byPipeline = await pipewright(['list', '--pipeline', 'snips-intent-data'], envFor(config));
      assert.match(byPipeline.stdout, /cli-run-1\s+COMPLETED\s+snips-intent-data/);
      const other = await pipewright(['list', '--pipeline', 'snips-intent'], envFor(config));
      assert.doesNotMatch(other.stdout, /cli-run-1/);
    });
    // With no worker left to answer queries, a completed run's step table comes from its history.
    const offline = await pipewright(['status', 'cli-run-1'], envFor(config));
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /✔ clean\s+clean\s+succeeded/);
  });

  test('a failing run exits 1 and prints the failing step', async () => {
    const config = env.config();
    await withWorker(config, async () => {
      const result = await pipewright(
        ['run', 'snips-intent-data', '--set', 'max_length=20', '--no-cache'],
        envFor(config),
      );
      assert.equal(result.code, 1);
      assert.match(result.stdout, /✘ clean \(clean\) failed [\d.]+s: \d+ of 280 rows \([\d.]+%\) were quarantined/);
      assert.match(result.stdout, /failed: step "clean" \(clean\) failed: \d+ of 280 rows/);
      assert.match(
        result.stdout,
        /\(TooManyBadRows, a failure of kind input: fix the pipeline or its data and run it again/,
      );
    });
  });
});
