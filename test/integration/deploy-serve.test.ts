import { MockActivityEnvironment } from '@temporalio/testing';
import OpenAI from 'openai';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createActivities, type StepInput, type StepResult } from '../../activities';
import { readMetricsReport } from '../../ml/metrics/metrics-report';
import { DEFAULT_LIMITS } from '../../serve/http-server';
import { startInferenceServer, type RunningServer } from '../../serve/start-server';
import type { ArtifactRef } from '../../core/artifacts';
import { activityDeps } from '../../worker/create-workers';
import { PROJECT_ROOT, type PipewrightConfig } from '../../worker/config';
import type { ModelRegistry } from '../../store/model-registry';
import { openLocalState } from '../../worker/local-state';
import { recordedRunReport } from '../../report/run-report';
import { approveSignal, progressQuery, type PipelineResult } from '../../workflows/pipeline';
import { SAMPLE_DATA, SAMPLE_DATA_STEPS } from '../support/sample-pipeline';
import { startTestServer, type TestServer } from '../support/test-server';
import { startWorker } from '../support/with-worker';
import { launchChromium } from '../support/browser';
import { envFor, pipewright } from '../support/run-cli';

let env: TestServer;
let config: PipewrightConfig;
let stopWorker: () => Promise<void>;
/** The inference server the tests from "the server answers predictions" on share. */
let server: RunningServer;
before(async () => {
  env = await startTestServer();
  config = {
    ...env.config(),
    home: mkdtempSync(join(tmpdir(), 'pipewright-deploy-')),
    dataRoots: [SAMPLE_DATA],
  };
  stopWorker = await startWorker(config);
});
after(async () => {
  await server?.stop();
  await stopWorker?.();
  await env?.stop();
  if (config) rmSync(config.home, { recursive: true, force: true });
});

/** SNIPS sample → one epoch of a small encoder → validate → deploy as "intents". */
const PIPELINE = `
name: deploy-small
params:
  force: { type: boolean, default: false }
  approval: { type: string, default: none }
steps:
${SAMPLE_DATA_STEPS}
  - id: train
    uses: train
    inputs:
      train: \${{ steps.pad.outputs.dataset }}
      validation: \${{ steps.pad_val.outputs.dataset }}
      tokenizer: \${{ steps.tok.outputs.tokenizer }}
    with: { epochs: 2, batch_size: 16, model: { layers: 1, hidden: 32, heads: 2, ffn: 64 }, schedule: { warmup_steps: 5 } }
  - id: evaluate
    uses: validate
    inputs: { model: "\${{ steps.train.outputs.model }}", dataset: "\${{ steps.pad_val.outputs.dataset }}" }
    with: { thresholds: ["accuracy >= 0"] }
  - id: deploy
    uses: deploy
    inputs:
      model: \${{ steps.train.outputs.model }}
      tokenizer: \${{ steps.tok.outputs.tokenizer }}
      metrics: \${{ steps.evaluate.outputs.metrics }}
    with:
      name: intents
      force: \${{ params.force }}
      approval: \${{ params.approval }}
      approval_timeout: 1m
`;

function start(params: Record<string, unknown> = {}) {
  return env.client.workflow.start('pipeline', {
    taskQueue: config.taskQueue,
    workflowId: `deploy-${randomUUID()}`,
    args: [{ pipeline: PIPELINE, params }],
  });
}

const deployOf = (result: PipelineResult) => result.steps.find((s) => s.id === 'deploy')!;

let first: PipelineResult;
let firstRunId: string;

test('the gate deploys the first model, refuses an equal one, and deploys when forced', async () => {
  const firstRun = await start();
  firstRunId = firstRun.workflowId;
  first = (await firstRun.result()) as PipelineResult;
  assert.equal(deployOf(first).outputs!.deployed, true);
  assert.equal(deployOf(first).outputs!.version, 1);
  assert.equal(deployOf(first).outputs!.champion, -1);

  // Training is deterministic: a second run makes the same model, which does not beat itself.
  const same = (await (await start()).result()) as PipelineResult;
  const refused = deployOf(same).outputs!;
  assert.equal(refused.deployed, false);
  assert.match(refused.decision as string, /does not beat the deployed version/);
  assert.equal(refused.challenger, refused.champion);

  const forced = (await (await start({ force: true })).result()) as PipelineResult;
  assert.equal(deployOf(forced).outputs!.deployed, true);
  assert.equal(deployOf(forced).outputs!.version, 2);
  const { registry } = openLocalState(config);
  assert.equal((await registry.current('intents'))!.version, 2);
});

test('a retried deploy of the same run step returns its version instead of making another', async () => {
  const { registry } = openLocalState(config);
  const before = (await registry.versions('intents')).length;
  const outputs = (id: string) => first.steps.find((s) => s.id === id)!.outputs!;
  const input: StepInput = {
    run: { workflowId: `retry-${randomUUID()}`, runId: 'r1', pipeline: 'deploy-small' },
    stepId: 'deploy',
    with: { name: 'intents', force: true },
    inputs: {
      model: outputs('train').model as ArtifactRef,
      tokenizer: outputs('tok').tokenizer as ArtifactRef,
      metrics: outputs('evaluate').metrics as ArtifactRef,
    },
    cache: true,
  };
  const { deploy } = createActivities(activityDeps(config));
  // The real activity, run twice in an activity context as Temporal would on a retry.
  const once = await new MockActivityEnvironment({ attempt: 1 }).run<[StepInput], StepResult, typeof deploy>(
    deploy,
    input,
  );
  const again = await new MockActivityEnvironment({ attempt: 2 }).run<[StepInput], StepResult, typeof deploy>(
    deploy,
    input,
  );
  assert.equal(once.outputs.version, before + 1);
  assert.equal(again.outputs.version, once.outputs.version);
  assert.match(again.outputs.decision as string, /already deployed by this step/);
  assert.equal((await registry.versions('intents')).length, before + 1);
});

test('a deploy that needs approval waits for the approve signal and honours a rejection', async () => {
  const handle = await start({ approval: 'required', force: true });
  for (let waiting = false; !waiting; await new Promise((r) => setTimeout(r, 100))) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    waiting = /waiting for approval/.test(progress?.steps.find((s) => s.id === 'deploy')?.summary ?? '');
  }
  await handle.signal(approveSignal, { approved: false, by: 'tester', comment: 'not today' });
  const result = (await handle.result()) as PipelineResult;
  assert.equal(deployOf(result).outputs!.deployed, false);
  assert.match(deployOf(result).outputs!.decision as string, /approval refused by tester: not today/);
});

async function call(path: string, init: RequestInit = {}, token = 'secret') {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text };
}

/**
 * Registers the served version of `name` again (same weights, a new version), promotes it and
 * waits for `running` to swap it in: the version gauge says 2.
 */
async function swapInAgain(registry: ModelRegistry, running: RunningServer, name: string): Promise<void> {
  const first = (await registry.current(name))!;
  const second = await registry.register({
    name: first.name,
    task: first.task,
    checkpoint: first.checkpoint,
    tokenizer: first.tokenizer,
    labels: first.labels,
    metrics: first.metrics,
    lineage: first.lineage,
    deployKey: `${first.deployKey}-again`,
  });
  await registry.promote(name, second.version);
  const deadline = Date.now() + 10_000;
  while (running.models.get(name)!.version !== second.version && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(running.models.get(name)!.version, second.version, `${name} was swapped`);
  assert.match(
    await (await fetch(`${running.url}/metrics`)).text(),
    new RegExp(`pipewright_model_version\\{model="${name}"\\} 2`),
  );
}

const predict = (body: unknown, token?: string) =>
  call(
    '/v1/models/intents:predict',
    { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) },
    token,
  );

test('the server answers predictions, health, metrics and its API description', async () => {
  const { store, registry, runs } = openLocalState(config);
  server = await startInferenceServer({
    store,
    registry,
    runs,
    models: ['intents'],
    port: 0,
    batching: { maxBatch: 16, maxWaitMs: 2 },
    limits: {
      ...DEFAULT_LIMITS,
      maxInstances: 4,
      maxTextChars: 200,
      maxBodyBytes: 4_096,
      headersTimeoutMs: 1_000,
      requestTimeoutMs: 2_000,
    },
    token: 'secret',
    pollMs: 100,
    log: () => undefined,
  });
  const answer = await predict({ instances: ['play some jazz', { text: 'will it rain tomorrow' }], top_k: 2 });
  assert.equal(answer.status, 200);
  const body = answer.body as {
    version: number;
    predictions: { label: string; probability: number; top_k: unknown[] }[];
  };
  const version = (await registry.current('intents'))!;
  assert.equal(body.version, version.version);
  assert.equal(body.predictions.length, 2);
  for (const p of body.predictions) {
    assert.ok(version.labels.includes(p.label));
    assert.ok(p.probability > 0 && p.probability <= 1);
    assert.equal(p.top_k.length, 2);
  }
  assert.equal((await call('/healthz')).status, 200);
  assert.deepEqual((await call('/readyz')).body, { ready: true, models: { intents: version.version } });
  const models = (await call('/v1/models')).body as { models: { name: string; version: number }[] };
  assert.deepEqual(
    models.models.map((m) => [m.name, m.version]),
    [['intents', version.version]],
  );
  assert.equal(((await call('/v1/models/intents')).body as { metrics: object }).metrics !== undefined, true);
  assert.match(
    (await call('/metrics')).body as string,
    /pipewright_http_requests_total\{route="predict",code="200"\} 1/,
  );
  assert.equal(((await call('/openapi.json')).body as { openapi: string }).openapi, '3.1.0');
});

test('each run writes an HTML report, served beside its model, that renders in a real browser', async () => {
  const { store, registry, runs } = openLocalState(config);
  assert.equal(first.report?.kind, 'run-report', 'the run ended by writing its report');
  const stored = await readFile(await store.localPath(first.report), 'utf8');
  for (const section of [
    'Training <code>train</code>',
    'learning-rate schedule',
    'Confusion matrix',
    'Most confident mistakes',
    '<h2>Deploy</h2>',
    '<h2>Lineage</h2>',
  ])
    assert.ok(stored.includes(section), `the report has ${section}`);
  assert.doesNotMatch(stored, /(src|href)="(https?:)?\/\//, 'nothing is loaded from elsewhere');

  // Version 1 came from the first run; the CLI copies the same report out of the store.
  const served = await call('/v1/models/intents/versions/1/report');
  assert.equal(served.status, 200);
  assert.equal(served.body, stored);
  const file = join(config.home, 'report.html');
  const cli = await pipewright(['report', firstRunId, '--html', file], envFor(config));
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /the report written when the run ended/);
  assert.equal(await readFile(file, 'utf8'), stored);
  // The text report ends with the epoch table, read from the finished training workflow.
  const text = await pipewright(['report', firstRunId], envFor(config));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /== evaluate \(validate\) · metrics/);
  assert.match(text.stdout, /training train: finished, 2 of 2 epochs, best by f1_macro/);
  assert.equal(text.stdout.split('\n').filter((line) => /^[12] +\d+ +\d+\.\d{4} /.test(line)).length, 2, text.stdout);
  // The served version's report is its run's; a version a run did not deploy (the retry test's) has none.
  const current = (await registry.current('intents'))!;
  const servedReport = await call('/v1/models/intents/report');
  const expected = await recordedRunReport(runs, current.lineage.workflowId);
  if (expected) {
    assert.equal(servedReport.status, 200);
    assert.equal(servedReport.body, await readFile(await store.localPath(expected), 'utf8'));
  } else {
    assert.equal(servedReport.status, 404);
    assert.equal((servedReport.body as { error: { code: string } }).error.code, 'no_report');
  }
  const missing = await call('/v1/models/intents/versions/99/report');
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { error: { code: string } }).error.code, 'unknown_version');
  assert.equal((await call('/v1/models/intents/report', {}, 'wrong')).status, 401, 'reports need the token');

  const { browser, missing: noBrowser } = await launchChromium();
  if (!browser) return void console.log(`# skipped the browser check: ${noBrowser}`);
  try {
    const page = await browser.newPage({
      viewport: { width: 1200, height: 900 },
      extraHTTPHeaders: { authorization: 'Bearer secret' },
    });
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const response = await page.goto(`${server.url}/v1/models/intents/versions/1/report`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('svg.line-chart').count(), 3, 'loss, validation metrics, learning rate');
    assert.ok((await page.locator('svg.line-chart path.series').count()) >= 4, 'every chart drew its lines');
    assert.ok((await page.locator('svg.bar-chart g.bar').count()) >= 7, 'F1 bars for the 7 intents');
    assert.ok((await page.locator('svg.heat-map rect.cell').count()) >= 7, 'the confusion heat map has cells');
    const heatMap = page.locator('svg.heat-map').last();
    const box = await heatMap.boundingBox();
    // Moved as a user drags it: the value changes and an input event follows.
    await page
      .locator('input[data-zoom]')
      .last()
      .evaluate((slider: { value: string; dispatchEvent(event: Event): boolean }) => {
        slider.value = '2';
        slider.dispatchEvent(new Event('input'));
      });
    const zoomed = await heatMap.boundingBox();
    assert.ok(zoomed!.width > box!.width * 1.9, `the heat map zooms (${box!.width} → ${zoomed!.width})`);
    assert.deepEqual(problems, [], 'no console errors');
    assert.deepEqual(requested, [`${server.url}/v1/models/intents/versions/1/report`], 'the page fetched nothing else');
    const shot = process.env.PIPEWRIGHT_REPORT_SCREENSHOT ?? join(config.home, 'report.png');
    await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: 2000 } });
    console.log(`# report screenshot: ${shot}`);
  } finally {
    await browser.close();
  }
});

test('bad requests get a 4xx with a JSON error, never a crash', async () => {
  const cases: [string, () => ReturnType<typeof call>, number, string][] = [
    ['malformed JSON', () => predict('{"instances": ['), 400, 'malformed_json'],
    ['not an object', () => predict([1, 2]), 400, 'invalid_request'],
    ['no instances', () => predict({ inputs: ['x'] }), 400, 'invalid_request'],
    ['empty instances', () => predict({ instances: [] }), 400, 'invalid_request'],
    ['a number', () => predict({ instances: [42] }), 400, 'invalid_instance'],
    ['an empty text', () => predict({ instances: ['  '] }), 400, 'invalid_instance'],
    ['a huge text', () => predict({ instances: ['x'.repeat(201)] }), 413, 'text_too_long'],
    ['too many instances', () => predict({ instances: ['a', 'b', 'c', 'd', 'e'] }), 413, 'too_many_instances'],
    ['a huge body', () => predict({ instances: ['a'], pad: 'x'.repeat(5_000) }), 413, 'body_too_large'],
    ['a bad top_k', () => predict({ instances: ['a'], top_k: 0 }), 400, 'invalid_request'],
    ['no token', () => predict({ instances: ['a'] }, 'wrong'), 401, 'unauthorized'],
    ['an unknown model', () => call('/v1/models/nope:predict', { method: 'POST', body: '{}' }), 404, 'unknown_model'],
    ['GET on predict', () => call('/v1/models/intents:predict'), 405, 'method_not_allowed'],
    ['an unknown route', () => call('/v2/everything'), 404, 'not_found'],
    [
      'deeply nested JSON',
      () => predict(`{"instances": ${'['.repeat(1_500)}${']'.repeat(1_500)}}`),
      400,
      'invalid_instance',
    ],
    [
      'a malformed %-escape',
      () => call('/v1/models/%E0%A4%A:predict', { method: 'POST', body: '{}' }),
      400,
      'invalid_request',
    ],
    ['metrics without the token', () => call('/metrics', {}, 'wrong'), 401, 'unauthorized'],
  ];
  for (const [what, send, status, code] of cases) {
    const response = await send();
    assert.equal(response.status, status, what);
    assert.equal((response.body as { error: { code: string } }).error.code, code, what);
  }
  // A body that never arrives in full is cut off with 408 at the request timeout (2 s here).
  const slow = connect(Number(new URL(server.url).port), '127.0.0.1');
  let answer = '';
  slow.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const closed = new Promise((resolve) => slow.on('close', resolve));
  slow.write(
    'POST /v1/models/intents:predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"instances": [',
  );
  const cutOff = await Promise.race([closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 6_000))]);
  assert.ok(cutOff, 'the slow body was cut off');
  assert.match(answer, /^HTTP\/1\.1 408/);
  assert.equal((await predict({ instances: ['still fine'] })).status, 200, 'the server still answers');
});

test('a version deployed by a run is swapped in under load without a failed request; so is a rollback', async () => {
  const { registry } = openLocalState(config);
  const from = (await registry.current('intents'))!.version;
  const seen: number[] = [];
  const failures: string[] = [];
  let done = false;
  const client = async () => {
    while (!done) {
      const response = await predict({ instances: ['add this song to my playlist', 'book a table'] });
      if (response.status !== 200) failures.push(`${response.status} ${JSON.stringify(response.body)}`);
      else seen.push((response.body as { version: number }).version);
    }
  };
  /** Waits until `version` answers a request sent after the `since`-th answer. */
  const answeredBy = async (version: number, since: number) => {
    const deadline = Date.now() + 10_000;
    while (!seen.slice(since).includes(version) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
  };
  const clients = Array.from({ length: 8 }, client);
  try {
    // A pipeline run deploys a new version while the clients keep asking.
    const run = (await (await start({ force: true })).result()) as PipelineResult;
    const deployed = deployOf(run).outputs!.version as number;
    assert.ok(deployed > from);
    await answeredBy(deployed, 0);
    const beforeRollback = seen.length;
    await registry.rollback('intents', from);
    await answeredBy(from, beforeRollback);
    assert.ok(seen.slice(beforeRollback).includes(from), 'the rolled-back version answers again');
    assert.ok(seen.includes(deployed), `versions answered: ${[...new Set(seen)].join(', ')}`);
  } finally {
    done = true;
    await Promise.all(clients);
  }
  assert.deepEqual(failures, []);
  assert.equal(server.models.get('intents')!.version, from);
});

test('the snips-slots example deploys a slot tagger; one server answers it with entity spans beside the classifier', async () => {
  const run = (await (
    await env.client.workflow.start('pipeline', {
      taskQueue: config.taskQueue,
      workflowId: `slots-${randomUUID()}`,
      args: [
        {
          pipeline: 'snips-slots',
          params: { epochs: 6, seq_len: 32, min_f1: 0 },
        },
      ],
    })
  ).result()) as PipelineResult;
  const scored = run.steps.find((s) => s.id === 'evaluate')!.outputs!;
  for (const metric of ['f1', 'precision', 'recall', 'accuracy', 'loss'])
    assert.equal(typeof scored[metric], 'number', `validate reports ${metric}`);
  assert.ok((scored.f1 as number) > 0.1, `the tagger learned something: test entity F1 ${String(scored.f1)}`);
  assert.equal(deployOf(run).outputs!.deployed, true);

  const { store, registry, runs } = openLocalState(config);
  const both = await startInferenceServer({
    store,
    registry,
    runs,
    models: ['intents', 'snips-slots'],
    port: 0,
    batching: { maxBatch: 16, maxWaitMs: 2 },
    limits: DEFAULT_LIMITS,
    pollMs: 100,
    log: () => undefined,
  });
  try {
    const post = async (model: string, instances: string[]) => {
      const response = await fetch(`${both.url}/v1/models/${model}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances }),
      });
      assert.equal(response.status, 200, model);
      return (await response.json()) as { predictions: Record<string, unknown>[] };
    };
    const texts = [
      'add the album Blue Skies to my Indie Mix playlist',
      'book a table for four at a café in Paris, tomorrow',
      'rate this novel 5 out of 6 stars',
    ];
    const tags = (await registry.current('snips-slots'))!.labels;
    const types = new Set(tags.filter((t) => t !== 'O').map((t) => t.slice(2)));
    const tagged = (await post('snips-slots', texts)).predictions as {
      entities: { type: string; text: string; start: number; end: number; score: number }[];
    }[];
    assert.equal(tagged.length, texts.length);
    let found = 0;
    tagged.forEach(({ entities }, i) => {
      let previousEnd = 0;
      for (const e of entities) {
        found++;
        assert.ok(types.has(e.type), `a known slot type: ${e.type}`);
        assert.equal(e.text, texts[i]!.slice(e.start, e.end), 'offsets index the text as sent');
        assert.ok(e.start >= previousEnd && e.end > e.start, 'spans are ordered and disjoint');
        assert.ok(e.score > 0 && e.score <= 1);
        assert.equal(e.text, e.text.trim(), 'a span starts and ends on a word');
        previousEnd = e.end;
      }
    });
    assert.ok(found > 0, 'the tagger finds slots');
    const classified = (await post('intents', texts)).predictions as { label: string }[];
    assert.ok(classified.every((p) => typeof p.label === 'string'));
    const listed = (await (await fetch(`${both.url}/v1/models`)).json()) as {
      models: { name: string; task: string }[];
    };
    assert.deepEqual(
      listed.models.map((m) => [m.name, m.task]),
      [
        ['intents', 'classification'],
        ['snips-slots', 'token_classification'],
      ],
    );
    const metrics = await (await fetch(`${both.url}/metrics`)).text();
    assert.match(metrics, /pipewright_batch_instances_count\{model="snips-slots"\} 1/);
    assert.match(metrics, /pipewright_model_version\{model="snips-slots"\} 1/);
    const api = (await (await fetch(`${both.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    assert.ok(api.components.schemas.EntityPrediction, 'the API description covers entity answers');

    // A new version of the tagger (here the same weights, registered again) is swapped in live.
    await swapInAgain(registry, both, 'snips-slots');
    const swapped = (await post('snips-slots', texts)).predictions as { entities: unknown[] }[];
    assert.deepEqual(swapped, tagged, 'the new version answers with the same spans');
  } finally {
    await both.stop();
  }
});

test('the babi-qa example trains a span reader from scratch; the server answers questions about contexts with spans', async () => {
  const run = (await (
    await env.client.workflow.start('pipeline', {
      taskQueue: config.taskQueue,
      workflowId: `qa-${randomUUID()}`,
      args: [{ pipeline: 'babi-qa', params: { epochs: 8, min_f1: 0 } }],
    })
  ).result()) as PipelineResult;
  const scored = run.steps.find((s) => s.id === 'evaluate')!.outputs!;
  for (const metric of ['f1', 'exact_match', 'loss'])
    assert.equal(typeof scored[metric], 'number', `validate reports ${metric}`);
  assert.ok((scored.f1 as number) > 0.1, `the reader learned something: test F1 ${String(scored.f1)}`);
  assert.equal(deployOf(run).outputs!.deployed, true);

  const { store, registry, runs } = openLocalState(config);
  // The report scores each bAbI task of the sample (25 test questions each) on its own; exact match
  // is a mean over questions, so the groups' question-weighted mean is the overall score.
  const report = await readMetricsReport(store, scored.metrics as ArtifactRef);
  const groups = report.groups!;
  assert.deepEqual(
    groups.scores.map((g) => [g.group, g.rows]),
    ['qa1', 'qa4', 'qa11', 'qa12', 'qa13', 'qa16'].map((task) => [task, 25]),
  );
  const weighted = groups.scores.reduce((sum, g) => sum + g.metrics.exact_match! * g.rows, 0) / report.dataset.rows;
  assert.ok(Math.abs(weighted - report.metrics.exact_match!) < 1e-9, `${weighted} vs ${report.metrics.exact_match}`);
  assert.equal(
    groups.scores.reduce((sum, g) => sum + g.counts!.windows!, 0),
    report.counts!.windows,
    'every window is scored in exactly one group',
  );
  assert.match(run.steps.find((s) => s.id === 'evaluate')!.summary!, /; 6 groups by id, lowest f1: qa\d+ \d\.\d{4}/);
  const server = await startInferenceServer({
    store,
    registry,
    runs,
    models: ['babi-qa'],
    port: 0,
    batching: { maxBatch: 16, maxWaitMs: 2 },
    limits: { ...DEFAULT_LIMITS, maxTextChars: 600 },
    pollMs: 100,
    log: () => undefined,
  });
  try {
    const predict = (body: unknown) =>
      fetch(`${server.url}/v1/models/babi-qa:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // A context longer than one 128-token window is cut into windows and answered all the same.
    const story = 'Mary moved to the bathroom. John went to the hallway. '.repeat(8);
    const instances = [
      { question: 'Where is Mary?', context: 'Mary moved to the bathroom. John went to the hallway.' },
      { question: 'Where is John?', context: story },
    ];
    const response = await predict({ instances, top_k: 2 });
    assert.equal(response.status, 200);
    const { predictions } = (await response.json()) as {
      predictions: {
        answer: string;
        start: number;
        end: number;
        score: number;
        top_k: { answer: string; start: number; end: number; score: number }[];
      }[];
    };
    assert.equal(predictions.length, 2);
    predictions.forEach((p, i) => {
      const { context } = instances[i]!;
      assert.equal(p.answer, context.slice(p.start, p.end), 'offsets index the context as sent');
      assert.ok(p.answer.length > 0 && p.score > 0 && p.score <= 1);
      // babi-qa sets answers.max_answer_length 5: the checkpoint carries it to the server.
      assert.ok(
        p.top_k.every((span) => span.answer.split(/\s+/).length <= 5),
        JSON.stringify(p.top_k),
      );
      assert.equal(p.top_k.length, 2);
      assert.deepEqual(p.top_k[0], { answer: p.answer, start: p.start, end: p.end, score: p.score });
    });
    const refusals: [string, unknown, number, string][] = [
      ['a bare string', { instances: ['Where is Mary?'] }, 400, 'invalid_instance'],
      ['no context', { instances: [{ question: 'Where is Mary?' }] }, 400, 'invalid_instance'],
      [
        'a context over the limit',
        { instances: [{ question: 'Where?', context: 'x '.repeat(301) }] },
        413,
        'text_too_long',
      ],
      [
        'a question with no room for context',
        { instances: [{ question: 'where '.repeat(99), context: 'here' }] },
        400,
        'invalid_instance',
      ],
    ];
    for (const [what, body, status, code] of refusals) {
      const refused = await predict(body);
      assert.equal(refused.status, status, what);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, code, what);
    }
    const listed = (await (await fetch(`${server.url}/v1/models`)).json()) as { models: { task: string }[] };
    assert.equal(listed.models[0]!.task, 'question_answering');
    const api = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    assert.ok(api.components.schemas.AnswerPrediction, 'the API description covers answer spans');
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /pipewright_model_version\{model="babi-qa"\} 1/);
    // A new version of the reader is swapped in live and answers as the first did.
    await swapInAgain(registry, server, 'babi-qa');
    const again = await predict({ instances, top_k: 2 });
    assert.deepEqual(((await again.json()) as { predictions: unknown }).predictions, predictions);
  } finally {
    await server.stop();
  }
});

test('the chatbot example trains an encoder-decoder from scratch; the server replies to texts with generated text', async () => {
  const run = (await (
    await env.client.workflow.start('pipeline', {
      taskQueue: config.taskQueue,
      workflowId: `chat-${randomUUID()}`,
      args: [{ pipeline: 'chatbot', params: { epochs: 4 } }],
    })
  ).result()) as PipelineResult;
  const scored = run.steps.find((s) => s.id === 'evaluate')!.outputs!;
  const { perplexity, loss, token_accuracy: accuracy } = scored as Record<string, number>;
  assert.ok(Math.abs(perplexity! - Math.exp(loss!)) < 1e-6 * perplexity!, 'perplexity is e^loss');
  // Guessing uniformly over the 2,000-token vocabulary has perplexity 2,000.
  assert.ok(perplexity! < 1000, `the model learned something: test perplexity ${perplexity}`);
  assert.ok(accuracy! > 0 && accuracy! < 1);
  for (const metric of ['bleu', 'chrf'])
    assert.ok((scored[metric] as number) >= 0 && (scored[metric] as number) <= 100, `${metric} on a 0-100 scale`);
  // Replies are never empty (generation.min_new_tokens 1), so some words were generated.
  assert.ok((scored.distinct_1 as number) > 0 && (scored.distinct_1 as number) <= 1);
  assert.ok((scored.distinct_2 as number) >= 0 && (scored.distinct_2 as number) <= 1);
  assert.equal(deployOf(run).outputs!.deployed, true);
  const { store: reports } = openLocalState(config);
  const report = await readMetricsReport(reports, scored.metrics as ArtifactRef);
  // The first test rows' generations are in the report beside their sources and targets.
  assert.equal(report.examples!.length, 10);
  const [first] = report.examples!;
  assert.ok(first!.source.length >= 1 && first!.target.length > 0 && typeof first!.generated === 'string');

  const { store, registry, runs } = openLocalState(config);
  const server = await startInferenceServer({
    store,
    registry,
    runs,
    models: ['chatbot'],
    port: 0,
    batching: { maxBatch: 8, maxWaitMs: 2 },
    limits: DEFAULT_LIMITS,
    pollMs: 100,
    log: () => undefined,
  });
  try {
    const predict = (body: unknown) =>
      fetch(`${server.url}/v1/models/chatbot:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const instances = ['Hello', { text: 'What is AI?' }, 'Do you like movies?'];
    const response = await predict({ instances });
    assert.equal(response.status, 200);
    const { predictions } = (await response.json()) as { predictions: { text: string; tokens: number }[] };
    assert.equal(predictions.length, 3);
    for (const p of predictions) {
      assert.equal(typeof p.text, 'string');
      assert.ok(Number.isInteger(p.tokens) && p.tokens >= 0 && p.tokens <= 64, JSON.stringify(p));
    }
    // Greedy decoding is deterministic, alone or batched with others.
    const alone = await predict({ instances: ['What is AI?'] });
    assert.deepEqual(((await alone.json()) as { predictions: unknown[] }).predictions[0], predictions[1]);
    const empty = await predict({ instances: ['   '] });
    assert.equal(empty.status, 400);
    const listed = (await (await fetch(`${server.url}/v1/models`)).json()) as { models: { task: string }[] };
    assert.equal(listed.models[0]!.task, 'seq2seq');
    await chatWithOfficialClient(server);
    await chatInTheTerminal(server);
  } finally {
    await server.stop();
  }
});

/** OpenAI's own npm client against the chat endpoint: replies, streaming, seeds, and its errors for bad requests. */
async function chatWithOfficialClient(server: RunningServer): Promise<void> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['chatbot'],
  );
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a friendly bot.' },
    { role: 'user', content: 'Hello' },
    { role: 'assistant', content: 'Hi! How are you?' },
    { role: 'user', content: 'What is AI?' },
  ];
  const ask = { model: 'chatbot', messages, temperature: 0.9, top_p: 0.95, seed: 7, max_tokens: 12 };
  const completion = await client.chat.completions.create({ ...ask, n: 2 });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices.length, 2);
  for (const choice of completion.choices) {
    assert.equal(choice.message.role, 'assistant');
    assert.ok(choice.message.content!.length > 0, 'a reply is never empty');
    assert.ok(['stop', 'length'].includes(choice.finish_reason));
  }
  assert.ok(completion.usage!.prompt_tokens > 0);
  assert.ok(completion.usage!.completion_tokens >= 2 && completion.usage!.completion_tokens <= 24);
  assert.equal(completion.usage!.total_tokens, completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  const again = await client.chat.completions.create({ ...ask, n: 2 });
  assert.deepEqual(
    again.choices.map((c) => c.message.content),
    completion.choices.map((c) => c.message.content),
    'the same seed, the same replies',
  );

  // Streamed: the chunks put together are the reply the same request gets in one piece.
  const whole = await client.chat.completions.create(ask);
  const stream = await client.chat.completions.create({
    ...ask,
    stream: true,
    stream_options: { include_usage: true },
  });
  let streamed = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    streamed += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  assert.equal(streamed, whole.choices[0]!.message.content);
  assert.equal(finish, whole.choices[0]!.finish_reason);
  assert.deepEqual(usage, whole.usage);
  assert.ok(chunks >= 3, `${chunks} chunks: the role, the text as it was decoded, the finish`);

  // Bad requests: 4xx in OpenAI's error shape, naming the parameter.
  const refused = async (body: Record<string, unknown>, status: number, param: string | null, code?: string) => {
    const error = await client.chat.completions
      .create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError, JSON.stringify(body).slice(0, 80));
    assert.equal(error.status, status);
    assert.equal(error.param, param);
    if (code) assert.equal(error.code, code);
    assert.equal(error.type, 'invalid_request_error');
  };
  await refused({ model: 'chatbot', messages: [] }, 400, 'messages');
  await refused({ model: 'chatbot', messages: [{ role: 'wizard', content: 'hi' }] }, 400, 'messages[0].role');
  await refused({ model: 'chatbot', messages: [{ role: 'user', content: '  ' }] }, 400, 'messages[0].content');
  await refused({ ...ask, max_tokens: 10_000 }, 400, 'max_tokens');
  await refused({ ...ask, temperature: 3 }, 400, 'temperature');
  await refused({ ...ask, model: 'nope' }, 404, 'model', 'model_not_found');
  await refused(
    { model: 'chatbot', messages: [{ role: 'user', content: 'word '.repeat(200) }] },
    400,
    'messages',
    'context_length_exceeded',
  );
  const malformed = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{"model": ' });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'malformed_json');

  // A client that goes away mid-stream: its generation stops and the server goes on answering.
  const abort = new AbortController();
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...ask, max_tokens: 60, stream: true }),
    signal: abort.signal,
  });
  const reader = response.body!.getReader();
  await reader.read();
  abort.abort();
  const decoding = async () =>
    /pipewright_chat_replies_decoding\{model="chatbot"\} (\d+)/.exec(
      await (await fetch(`${server.url}/metrics`)).text(),
    )?.[1];
  for (let i = 0; i < 50 && (await decoding()) !== '0'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await decoding(), '0', 'nothing of the departed stream is left decoding');
  const after = await client.chat.completions.create(ask);
  assert.equal(after.choices[0]!.message.content, whole.choices[0]!.message.content);
}

/** `pipewright chat` fed from a pipe: greedy replies, the history in the source, /reset and /exit. */
async function chatInTheTerminal(server: RunningServer): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), 'chat', 'chatbot', '--temperature', '0', '--max-tokens', '10'],
    {
      env: { ...process.env, PIPEWRIGHT_HOME: config.home },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end('What is AI?\nHello\n/reset\nWhat is AI?\n/exit\nnever read\n');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, output);
  const replies = output
    .split('\n')
    .filter((line) => line.startsWith('bot> '))
    .map((line) => line.slice(5));
  assert.equal(replies.length, 3, output);
  assert.match(output, /\(conversation reset\)/);
  assert.equal(replies[2], replies[0], 'after /reset the same question gets the same greedy reply');
  // The same greedy reply the chat endpoint gives to that one message.
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
  const endpoint = await client.chat.completions.create({
    model: 'chatbot',
    messages: [{ role: 'user', content: 'What is AI?' }],
    temperature: 0,
    max_tokens: 10,
  });
  assert.equal(replies[0], endpoint.choices[0]!.message.content);
}
