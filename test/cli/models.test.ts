import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { MetricsReport } from '../../ml/metrics/metrics-report';
import { loadBackend } from '../../ml/backend/load-backend';
import { EncoderModel } from '../../ml/models/encoder-model';
import { classification } from '../../ml/tasks/classification';
import { saveTokenizer } from '../../ml/tokenizers/tokenizer-file';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { saveCheckpoint } from '../../ml/train/checkpoint';
import { PROJECT_ROOT } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';

const exec = promisify(execFile);
const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const home = mkdtempSync(join(tmpdir(), 'pipewright-models-cli-'));
const LABELS = ['greeting', 'weather'];

async function pipewright(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...args], {
      env: { ...process.env, PIPEWRIGHT_HOME: home },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A state folder with two registered versions of a tiny classifier and a validate report. */
before(async () => {
  const { tf } = await loadBackend();
  const { store, registry, runs } = openLocalState({ home });
  const tokenizer = await saveTokenizer(
    store,
    {
      format: 'pipewright-tokenizer',
      version: 1,
      type: 'wordpiece',
      vocab: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello', 'rain', 'sun', 'hi'],
      lowercase: true,
      stripAccents: true,
      continuingPrefix: '##',
      maxCharsPerWord: 100,
      labels: LABELS,
    },
    {},
  );
  for (const seed of [1, 2]) {
    const checkpoint = await tinyCheckpoint(tf, store, seed);
    const version = await registry.register({
      name: 'chat',
      task: 'classification',
      checkpoint,
      tokenizer,
      labels: LABELS,
      metrics: { accuracy: 0.5 + seed / 10, f1_macro: 0.4 + seed / 10, loss: 1 / seed },
      lineage: { pipeline: 'tiny', workflowId: `run-${seed}`, runId: 'r', step: 'deploy', parents: [] },
      deployKey: `run-${seed}/deploy`,
    });
    await registry.promote('chat', version.version);
  }
  const report: MetricsReport = {
    task: 'classification',
    model: { sha256: 'a'.repeat(64), step: 10, epoch: 1 },
    dataset: { sha256: 'b'.repeat(64), rows: 4 },
    backend: 'tensorflow',
    metrics: { accuracy: 0.75, f1_macro: 0.7333, loss: 0.5 },
    labels: LABELS,
    per_class: [
      { label: 'greeting', precision: 1, recall: 0.5, f1: 0.6667, support: 2 },
      { label: 'weather', precision: 0.6667, recall: 1, f1: 0.8, support: 2 },
    ],
    confusion: [
      [1, 1],
      [0, 2],
    ],
    thresholds: [{ condition: 'f1_macro >= 0.9', metric: 'f1_macro', value: 0.7333, passed: false }],
    passed: false,
  };
  const metrics = await store.write({ kind: 'report' }, (out) => {
    out.write(JSON.stringify(report));
    return Promise.resolve();
  });
  await runs.record({
    workflowId: 'run-1',
    runId: 'r',
    pipeline: 'tiny',
    step: 'evaluate',
    activity: 'validate',
    cached: false,
    finishedAt: new Date().toISOString(),
    outputs: { metrics, passed: false },
  });
});
after(() => rmSync(home, { recursive: true, force: true }));

async function tinyCheckpoint(tf: typeof Tf, store: ReturnType<typeof openLocalState>['store'], seed: number) {
  const model = new EncoderModel(
    tf,
    {
      vocabSize: 8,
      maxLength: 8,
      layers: 1,
      hidden: 8,
      heads: 2,
      ffn: 8,
      dropout: 0,
      activation: 'gelu',
      positional: 'sinusoidal',
      pooling: 'first',
      classes: 2,
    },
    classification.head,
    seed,
  );
  const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
  try {
    return await saveCheckpoint(
      store,
      model,
      optimizer,
      { step: 0, epoch: 0, batchInEpoch: 0, seed },
      { labels: LABELS },
    );
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

test('models lists the deployed version; models show lists every version with metrics and lineage', async () => {
  const list = await pipewright('models');
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^chat {2}deployed: version 2 \(f1_macro 0\.6000\) {2}versions: 2$/m);
  const show = await pipewright('models', 'show', 'chat');
  assert.match(show.stdout, /^ {2}v1 {2}accuracy 0\.6000 {2}f1_macro 0\.5000 .* from tiny run run-1/m);
  assert.match(show.stdout, /^\* v2 /m);
  const missing = await pipewright('models', 'show', 'nope');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no model "nope"; registered: chat/);
});

test('predict classifies with the deployed version; rollback switches versions and refuses what cannot be', async () => {
  const predicted = await pipewright('predict', 'chat', 'hello there', 'rain again', '--top-k', '2');
  assert.equal(predicted.code, 0, predicted.stderr);
  const lines = predicted.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(
    lines[0]!,
    /^(greeting|weather) \(0\.\d{3}\) {2}"hello there" {2}\[(greeting|weather) 0\.\d{3}, (greeting|weather) 0\.\d{3}\]$/,
  );
  assert.equal(lines[2], 'chat version 2');

  const back = await pipewright('rollback', 'chat');
  assert.equal(back.code, 0);
  assert.match(back.stdout, /chat: version 1 deployed again \(was 2\)/);
  assert.match((await pipewright('predict', 'chat', 'hi')).stdout, /chat version 1/);
  const none = await pipewright('rollback', 'chat');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no earlier deployed version/);
  assert.equal((await pipewright('rollback', 'chat', '--to', 'two')).code, 2);
  assert.equal((await pipewright('predict', 'ghost', 'hi')).code, 2);
});

test('report prints a run’s metrics: scores, thresholds, per-class table and confusion matrix', async () => {
  const printed = await pipewright('report', 'run-1');
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /== evaluate \(validate\) · metrics/);
  assert.match(printed.stdout, /accuracy 0\.7500 {3}f1_macro 0\.7333 {3}loss 0\.5000 {3}\(4 rows;/);
  assert.match(printed.stdout, /✘ f1_macro >= 0\.9 {2}\(measured 0\.7333\)/);
  assert.match(printed.stdout, /^greeting {2}1\.0000 {5}0\.5000 {2}0\.6667 {8}2$/m);
  assert.match(printed.stdout, /^weather {3}\s+0\s+2$/m);
  const unknown = await pipewright('report', 'no-such-run');
  assert.equal(unknown.code, 2);
});
