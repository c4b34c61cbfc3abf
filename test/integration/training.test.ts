import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StepResult } from '../../activities';
import type { ArtifactRef } from '../../core/artifacts';
import { CheckpointJournal } from '../../store/checkpoint-journal';
import { collectGarbage } from '../../store/garbage-collect';
import { FileArtifactStore } from '../../store/artifact-store';
import type { PipewrightConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { progressQuery, type PipelineResult } from '../../workflows/pipeline';
import { stopTrainingSignal, trainingProgressQuery } from '../../workflows/training';
import { epochTableText } from '../../workflows/training-progress';
import { killHard, spawnTestWorker } from '../support/spawn-worker';
import {
  PRETRAINED_DATA_STEPS,
  QA_DATA_STEPS,
  DIALOGUE_DATA_STEPS,
  SAMPLE_DATA,
  SAMPLE_DATA_STEPS,
  SLOT_DATA_STEPS,
} from '../support/sample-pipeline';
import { envFor, pipewright } from '../support/run-cli';
import { startTestServer, type TestServer } from '../support/test-server';
import { startTcpProxy } from '../support/tcp-proxy';
import { startWorker } from '../support/with-worker';

let env: TestServer;
before(async () => {
  env = await startTestServer();
});
const homes: string[] = [];
after(async () => {
  await env?.stop();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** A config of its own (task queue and state folder, removed at the end) that may read the bundled SNIPS samples. */
function trainingConfig(): PipewrightConfig {
  const home = mkdtempSync(join(tmpdir(), 'pipewright-train-'));
  homes.push(home);
  return { ...env.config(), home, dataRoots: [SAMPLE_DATA] };
}

/**
 * A bundled sample → a small encoder trained with tiny batches, so an epoch lasts long enough to
 * interrupt: a text classifier by default, a slot tagger with `dataSteps: SLOT_DATA_STEPS`, a span
 * reader with `dataSteps: QA_DATA_STEPS`, an encoder-decoder with `dataSteps: DIALOGUE_DATA_STEPS`, or a fine-tuned MiniLM with `dataSteps:
 * PRETRAINED_DATA_STEPS` and `model: { pretrained: … }`.
 */
function trainingPipeline(options: {
  epochs: number;
  extraSteps?: string;
  trainWith?: string;
  dataSteps?: string;
  model?: string;
  /** The train step's heartbeat timeout; `default` leaves it and the retry policy to the step's defaults. */
  heartbeat?: string;
}): string {
  const policy =
    options.heartbeat === 'default'
      ? ''
      : `    timeout: { heartbeat: ${options.heartbeat ?? '3s'} }\n    retry: { max_attempts: 3, initial_interval: 100ms }`;
  return `
name: train-small
steps:
${options.dataSteps ?? SAMPLE_DATA_STEPS}
  - id: train
    uses: train
    inputs:
      train: \${{ steps.pad.outputs.dataset }}
      validation: \${{ steps.pad_val.outputs.dataset }}
      tokenizer: \${{ steps.tok.outputs.tokenizer }}
    with:
      epochs: ${options.epochs}
      batch_size: 2
      seed: 11
      model: ${options.model ?? '{ layers: 1, hidden: 32, heads: 2, ffn: 64, dropout: 0.1 }'}
      schedule: { warmup_steps: 10 }
      checkpoint_every: 10
      ${options.trainWith ?? ''}
${policy}
${options.extraSteps ?? ''}`;
}

async function startRun(config: PipewrightConfig, yaml: string) {
  return env.client.workflow.start('pipeline', {
    taskQueue: config.taskQueue,
    workflowId: `train-${randomUUID()}`,
    args: [{ pipeline: yaml }],
  });
}

/** The training child workflow's id for a pipeline run's `train` step. */
const childOf = (workflowId: string) => `${workflowId}.train`;

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A run's training once epoch `epoch` (0-based) has journaled `count` checkpoints: the training
 * workflow's handle, its checkpoint journal and the epoch's key in it.
 */
async function epochCheckpoints(
  config: PipewrightConfig,
  run: { readonly workflowId: string },
  epoch: number,
  count: number,
  what: string,
) {
  const child = env.client.workflow.getHandle(childOf(run.workflowId));
  const runId = await until(async () => (await child.describe()).runId, 'the training workflow');
  const journal = new CheckpointJournal(join(config.home, 'training'));
  const key = { workflowId: child.workflowId, runId, step: 'train', epoch };
  await until(async () => ((await journal.list(key)).length >= count ? true : undefined), what);
  return { child, journal, key };
}

const RESUME_CASES = [
  { task: 'classification', yaml: trainingPipeline({ epochs: 2 }), metric: 'f1_macro' },
  {
    task: 'token classification',
    yaml: trainingPipeline({ epochs: 2, dataSteps: SLOT_DATA_STEPS, trainWith: 'task: token_classification' }),
    metric: 'f1',
  },
  {
    task: 'question answering',
    yaml: trainingPipeline({ epochs: 2, dataSteps: QA_DATA_STEPS, trainWith: 'task: question_answering' }),
    metric: 'f1',
  },
  {
    task: 'seq2seq',
    yaml: trainingPipeline({
      epochs: 2,
      dataSteps: DIALOGUE_DATA_STEPS,
      trainWith: 'task: seq2seq\n      label_smoothing: 0.1',
    }),
    metric: 'perplexity',
  },
  {
    task: 'fine-tuned MiniLM, lower layers frozen',
    yaml: trainingPipeline({
      epochs: 2,
      dataSteps: PRETRAINED_DATA_STEPS,
      model: '{ pretrained: all-minilm-l6-v2 }',
      trainWith: 'freeze: [embeddings, layers.0-3]',
      // Its first step builds a 6-layer training graph, which takes seconds.
      heartbeat: '15s',
    }),
    metric: 'f1_macro',
  },
];

for (const { task, yaml, metric } of RESUME_CASES)
  test(`SIGKILL of the worker mid-epoch (${task}): training resumes from the newest checkpoint that verifies, bit for bit as if never stopped`, async () => {
    const straightConfig = trainingConfig();
    const stop = await startWorker(straightConfig);
    let straight: PipelineResult;
    try {
      straight = (await (await startRun(straightConfig, yaml)).result()) as PipelineResult;
    } finally {
      await stop();
    }

    const config = trainingConfig();
    const first = await spawnTestWorker(config);
    let second: Awaited<ReturnType<typeof spawnTestWorker>> | undefined;
    try {
      const handle = await startRun(config, yaml);
      // Kill once the second epoch has written two mid-epoch checkpoints.
      const { child, journal, key } = await epochCheckpoints(config, handle, 1, 2, 'mid-epoch checkpoints');
      await killHard(first);
      // Damage the newest: the new worker must detect it and resume from the one before.
      const [previous, newest] = (await journal.list(key)).slice(-2) as [ArtifactRef, ArtifactRef];
      const store = new FileArtifactStore(join(config.home, 'artifacts'));
      const newestPath = await store.localPath(newest);
      const bytes = readFileSync(newestPath);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      writeFileSync(newestPath, bytes);
      second = await spawnTestWorker(config);
      const resumed = (await handle.result()) as PipelineResult;

      const straightTrain = straight.steps.find((s) => s.id === 'train')!.outputs!;
      const resumedTrain = resumed.steps.find((s) => s.id === 'train')!.outputs!;
      const digest = (outputs: Readonly<Record<string, unknown>>, name: string) =>
        (outputs[name] as { sha256: string }).sha256;
      // Checkpoints are addressed by the SHA-256 of weights, Adam slots and position: equal digests, equal bits.
      assert.equal(digest(resumedTrain, 'last'), digest(straightTrain, 'last'));
      assert.equal(digest(resumedTrain, 'model'), digest(straightTrain, 'model'));
      assert.equal(typeof straightTrain[metric], 'number', `the train step reports ${metric}`);
      assert.equal(resumedTrain[metric], straightTrain[metric]);

      const history = (await child.query(trainingProgressQuery)).history;
      const epoch2 = history[1]!;
      assert.ok(epoch2.resumedAt, 'epoch 2 was resumed from a checkpoint, not restarted');
      assert.equal(epoch2.resumedAt.step, previous.meta!.step, 'it resumed from the newest checkpoint that verifies');
      assert.equal(history[0]!.resumedAt, undefined);
    } finally {
      await killHard(first);
      if (second) await killHard(second);
    }
  });

test('with the default heartbeat timeout, training SIGKILLed mid-epoch resumes on a newly started worker within seconds', async () => {
  const config = trainingConfig();
  const first = await spawnTestWorker(config);
  let second: Awaited<ReturnType<typeof spawnTestWorker>> | undefined;
  try {
    const handle = await startRun(config, trainingPipeline({ epochs: 2, heartbeat: 'default' }));
    const { child } = await epochCheckpoints(config, handle, 1, 1, 'a mid-epoch checkpoint');
    await killHard(first);
    const killedAt = Date.now();
    second = await spawnTestWorker(config);
    const startedAt = Date.now();
    // Resumed: a later attempt of the epoch's train activity has reported a step.
    await until(
      async () => {
        const { raw } = await child.describe();
        const train = raw.pendingActivities?.find((a) => a.activityType?.name === 'train');
        return (train?.attempt ?? 0) >= 2 && train?.heartbeatDetails ? true : undefined;
      },
      'the resumed attempt',
      120_000,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(
      `# SIGKILL → resumed training: ${seconds.toFixed(1)} s (the new worker took ${((startedAt - killedAt) / 1000).toFixed(1)} s to start)`,
    );
    assert.ok(seconds < 20, `resumed ${seconds.toFixed(1)} s after the kill`);
    const result = (await handle.result()) as PipelineResult;
    assert.equal(result.status, 'succeeded');
  } finally {
    await killHard(first);
    if (second) await killHard(second);
  }
});

/**
 * Trains one epoch with the worker behind a proxy, and cuts the worker off the server (an outage
 * as the worker sees it) once the epoch has written its first mid-epoch checkpoint, until
 * `outageAfterEndMs` after the epoch's final checkpoint. Resolves to the run's epoch record and
 * the final checkpoint the journal named during the outage.
 */
async function epochEndingInOutage(heartbeat: string, outageAfterEndMs: number) {
  const config = trainingConfig();
  const proxy = await startTcpProxy(config.temporalAddress);
  const stop = await startWorker({ ...config, temporalAddress: proxy.address });
  try {
    const handle = await startRun(config, trainingPipeline({ epochs: 1, heartbeat }));
    const { child, journal, key } = await epochCheckpoints(config, handle, 0, 1, 'a mid-epoch checkpoint');
    const pad = (await handle.query(progressQuery)).steps.find((step) => step.id === 'pad')!;
    const padded = (pad.outputs!.dataset as ArtifactRef).rows!;
    proxy.cut();
    const batches = Math.ceil(padded / 2);
    const final = await until(
      async () => (await journal.list(key)).find((ref) => ref.meta?.batchInEpoch === batches),
      "the epoch's final checkpoint in its journal",
    );
    await new Promise((resolve) => setTimeout(resolve, outageAfterEndMs));
    proxy.restore();
    const result = (await handle.result()) as PipelineResult;
    assert.equal(result.status, 'succeeded');
    const trained = result.steps.find((s) => s.id === 'train')!.outputs!;
    const training = await child.query(trainingProgressQuery);
    return { epoch: training.history[0]!, training, final, model: trained.model as ArtifactRef };
  } finally {
    proxy.restore();
    await stop();
    await proxy.close();
  }
}

test('an epoch that ends during a server outage holds its result and sends it when the server is back', async () => {
  // Longer than the worker's own retries of a result (about 10 s), shorter than the heartbeat timeout.
  const { epoch, final, model } = await epochEndingInOutage('30s', 12_000);
  assert.equal(epoch.resumedAt, undefined, 'the attempt that trained the epoch delivered it: no retry');
  assert.equal(model.sha256, final.sha256, "the model is the epoch's final checkpoint");
});

test('an epoch finished during an outage longer than its heartbeat timeout is not trained again by the retry', async () => {
  const { epoch, training, final, model } = await epochEndingInOutage('3s', 6_000);
  assert.deepEqual(
    epoch.resumedAt,
    { step: final.meta!.step, batch: final.meta!.batchInEpoch },
    "the retry took up the earlier attempt's final checkpoint",
  );
  assert.equal(model.sha256, final.sha256, 'and trained nothing: the same checkpoint is the model');
  const row = epochTableText(training).find((line) => line.startsWith('1 '))!;
  assert.match(row, /^1 \(finished by an earlier attempt\)/, 'the epoch table says so');
});

test('cancelling a run mid-epoch saves a checkpoint, then the run ends cancelled', async () => {
  const config = trainingConfig();
  const stop = await startWorker(config);
  try {
    const handle = await startRun(config, trainingPipeline({ epochs: 3 }));
    const { child, journal, key } = await epochCheckpoints(config, handle, 0, 1, 'training under way');
    const before = (await journal.list(key)).length;
    await handle.cancel();
    await assert.rejects(handle.result(), /cancel/i);
    assert.equal((await child.describe()).status.name, 'CANCELLED');
    const written = await journal.list(key);
    assert.ok(written.length > before, 'a checkpoint was written on cancel');
    const store = new FileArtifactStore(join(config.home, 'artifacts'));
    assert.ok(await store.verify(written.at(-1)!), 'the cancel checkpoint is stored and verifies');
    const progress = await handle.query(progressQuery);
    assert.equal(progress.status, 'cancelled');
    // The training workflow says where it stopped and what it saved, not a stale "running … ETA".
    const training = await child.query(trainingProgressQuery);
    assert.equal(training.status, 'cancelled');
    assert.equal(training.cancelled?.epoch, 1);
    assert.ok(training.cancelled.step > 0);
    // The checkpoint written as the train activity stopped, or the epoch's own if it ended first.
    assert.ok(training.cancelled.checkpoint, 'a checkpoint is named');
    assert.ok(await store.verify(training.cancelled.checkpoint), 'the named checkpoint is stored and verifies');
    const { currentDetails } = await child.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    assert.match(currentDetails, /— cancelled in epoch 1 of 3 at step \d+, checkpoint [0-9a-f]{12} saved/);
    assert.doesNotMatch(currentDetails, /ETA|stopTraining/);
  } finally {
    await stop();
  }
});

test('the stopTraining signal ends training after the current epoch, keeping the best model; validate gates a later step', async () => {
  const config = trainingConfig();
  const stop = await startWorker(config);
  try {
    const yaml = trainingPipeline({
      epochs: 50,
      extraSteps: `
  - id: evaluate
    uses: validate
    inputs: { model: "\${{ steps.train.outputs.model }}", dataset: "\${{ steps.pad_val.outputs.dataset }}" }
    with: { thresholds: ["accuracy >= 0", "loss < 1000"] }
  - id: impossible
    uses: validate
    inputs: { model: "\${{ steps.train.outputs.model }}", dataset: "\${{ steps.pad_val.outputs.dataset }}" }
    with: { thresholds: ["accuracy > 1"] }
  - id: when_passed
    uses: wait
    with: { ms: 0 }
    when: \${{ steps.evaluate.outputs.passed }}
  - id: when_failed
    uses: wait
    with: { ms: 0 }
    when: \${{ steps.impossible.outputs.passed }}
`,
    });
    const handle = await startRun(config, yaml);
    const child = env.client.workflow.getHandle(childOf(handle.workflowId));
    await until(
      async () => ((await child.query(trainingProgressQuery)).history.length >= 1 ? true : undefined),
      'one epoch',
    );
    // Each epoch's line reaches the run's step table (through the internal step-progress signal).
    await until(async () => {
      const train = (await handle.query(progressQuery)).steps.find((s) => s.id === 'train');
      return /^epoch \d+\/50 · loss \d+\.\d{4} · val /.test(train?.summary ?? '') ? true : undefined;
    }, 'the epoch summary in the run');
    // Sent to the pipeline run, which passes it on to its training steps.
    await handle.signal(stopTrainingSignal, 'enough');
    const result = (await handle.result()) as PipelineResult;
    const train = result.steps.find((s) => s.id === 'train')!;
    const outputs = train.outputs as StepResult['outputs'];
    assert.equal(outputs.stopped_early, true);
    assert.ok((outputs.epochs as number) < 50);
    assert.ok((outputs.best_epoch as number) <= (outputs.epochs as number));
    assert.match(train.summary!, /enough/);
    const status = Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
    assert.equal(status.when_passed, 'succeeded');
    assert.equal(status.when_failed, 'skipped');
    assert.equal(result.steps.find((s) => s.id === 'impossible')!.outputs!.passed, false);
    // The run's records keep the model and the retained checkpoints from garbage collection.
    const { store, runs, cache } = openLocalState(config);
    await collectGarbage(store, runs, cache, { dryRun: false });
    assert.ok(await store.verify(outputs.model as ArtifactRef));
    assert.ok(await store.verify(outputs.last as ArtifactRef));
  } finally {
    await stop();
  }
});

test('early stopping ends training when the monitored metric stops improving, and continue-as-new keeps the history', async () => {
  const config = trainingConfig();
  const stop = await startWorker(config);
  let workflowId: string | undefined;
  try {
    // A learning rate of almost 0 never improves validation loss by min_delta.
    const yaml = trainingPipeline({
      epochs: 6,
      trainWith:
        'monitor: loss\n      early_stopping: { patience: 2, min_delta: 0.5 }\n      optimizer: { learning_rate: 0.000001 }\n      history_limit: 50',
    });
    const handle = await startRun(config, yaml);
    workflowId = handle.workflowId;
    const result = (await handle.result()) as PipelineResult;
    const outputs = result.steps.find((s) => s.id === 'train')!.outputs!;
    assert.equal(outputs.epochs, 3, 'epoch 1 sets the best, 2 and 3 do not improve by 0.5: stop after 3');
    assert.equal(outputs.stopped_early, true);
    const child = env.client.workflow.getHandle(childOf(handle.workflowId));
    const runs = [];
    for await (const run of env.client.workflow.list({ query: `WorkflowId = '${child.workflowId}'` })) runs.push(run);
    assert.ok(runs.length >= 2, `the training workflow continued as new (${runs.length} runs)`);
  } finally {
    await stop();
  }
  // No worker is left: the epoch table comes from the finished training workflow, all three epochs of it.
  assert.ok(workflowId);
  const status = await pipewright(['status', workflowId], envFor(config));
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /training train: stopped, 3 of 6 epochs \(.+\), best by loss/);
  assert.match(
    status.stdout,
    /epoch {2}step {2}train loss {2}val accuracy {2}val f1_macro {2}val loss {2}samples\/s {2}time/,
  );
  const rows = status.stdout.split('\n').filter((line) => /^[123] +\d+ +\d+\.\d{4} /.test(line));
  assert.equal(rows.length, 3, status.stdout);
});
