import { ActivityFailure, ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ArtifactRef } from '../../core/artifacts';
import { readMetricsReport, scoredLabels } from '../../ml/metrics/metrics-report';
import { readDataset } from '../../store/arrow-io';
import { FileArtifactStore } from '../../store/artifact-store';
import type { PipewrightConfig } from '../../worker/config';
import { progressQuery, type PipelineInput, type PipelineResult } from '../../workflows/pipeline';
import type { PipelineProgress } from '../../workflows/progress';
import { observed } from '../support/test-activities';
import { startTestServer, type TestServer } from '../support/test-server';
import { withWorker } from '../support/with-worker';
import { sharedDataDir } from '../../bench/shared-texts';

let env: TestServer;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.stop();
});

function start(config: PipewrightConfig, input: PipelineInput) {
  return env.client.workflow.start('pipeline', {
    taskQueue: config.taskQueue,
    workflowId: `test-${randomUUID()}`,
    args: [input],
  });
}

async function run(config: PipewrightConfig, input: PipelineInput): Promise<PipelineResult> {
  return (await start(config, input)).result() as Promise<PipelineResult>;
}

function step(result: PipelineResult, id: string) {
  const found = result.steps.find((s) => s.id === id);
  assert.ok(found, `step ${id} in result`);
  return found;
}

async function failureOf(promise: Promise<unknown>): Promise<WorkflowFailedError> {
  const error = await promise.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
  return error;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pipeline workflow on a real Temporal dev server', () => {
  test('runs the demo pipeline end to end, writes verified Arrow artifacts, and re-runs from cache', async () => {
    const config = env.config();
    await withWorker(config, async () => {
      const first = await run(config, { pipeline: 'snips-intent-data' });
      assert.equal(first.status, 'succeeded');
      assert.deepEqual(
        first.steps.map((s) => s.id),
        [
          'load',
          'clean',
          'split',
          'tokenize_train',
          'tokenize_validation',
          'tokenize_test',
          'pad_train',
          'pad_validation',
          'pad_test',
          'batch_train',
        ],
      );
      assert.ok(first.steps.every((s) => s.status === 'succeeded'));
      const dataset = step(first, 'clean').outputs!.dataset as ArtifactRef;
      const store = new FileArtifactStore(join(config.home, 'artifacts'));
      assert.equal(await store.verify(dataset), true);
      let rows = 0;
      for await (const chunk of readDataset(store, dataset)) {
        rows += chunk.length;
        for (const row of chunk) assert.equal(row.text, String(row.text).toLowerCase(), 'lowercase param applied');
      }
      assert.equal(rows, 280);
      assert.deepEqual(
        ['train_rows', 'validation_rows', 'test_rows'].map((k) => step(first, 'split').outputs![k]),
        [224, 28, 28],
      );
      const batches = step(first, 'batch_train').outputs!;
      assert.equal(batches.batches, 7);
      let batchCount = 0;
      for await (const chunk of readDataset(store, batches.dataset as ArtifactRef)) {
        batchCount++;
        assert.equal(chunk.length, 32);
        assert.ok(chunk.every((row) => (row.input_ids as number[]).length === 32));
      }
      assert.equal(batchCount, 7, 'one record batch per training batch');

      const second = await run(config, { pipeline: 'snips-intent-data' });
      assert.ok(second.steps.every((s) => s.status === 'cached'));
      assert.equal((step(second, 'clean').outputs!.dataset as ArtifactRef).sha256, dataset.sha256);

      const uncached = await run(config, {
        pipeline: 'snips-intent-data',
        noCache: true,
        params: { lowercase: false },
      });
      assert.ok(uncached.steps.every((s) => s.status === 'succeeded'));
      assert.notEqual((step(uncached, 'clean').outputs!.dataset as ArtifactRef).sha256, dataset.sha256);
    });
  });

  test('prepares the full SNIPS training set from ../shared/data', async () => {
    const config = { ...env.config(), dataRoots: [sharedDataDir()] };
    const source = join(sharedDataDir(), 'snips', 'intents', 'train.jsonl');
    const result = await withWorker(config, () =>
      run(config, { pipeline: 'snips-intent-data', params: { source, vocab_size: 4000 } }),
    );
    const clean = step(result, 'clean').outputs!;
    assert.equal(step(result, 'load').outputs!.rows, 13_784);
    assert.equal((clean.rows as number) + (clean.quarantined as number) + (clean.duplicates as number), 13_784);
    const split = step(result, 'split').outputs!;
    assert.equal(
      (split.train_rows as number) + (split.validation_rows as number) + (split.test_rows as number),
      clean.rows,
    );
    assert.equal(step(result, 'tokenize_train').outputs!.vocab_size, 4000);
    assert.ok((step(result, 'tokenize_test').outputs!.unknown_tokens as number) < 50);
    assert.equal(step(result, 'batch_train').outputs!.batches, Math.ceil((split.train_rows as number) / 32));
  });

  test('out-of-scope detection: a held-out SNIPS intent is rejected by probability and scored apart', async () => {
    const config = env.config();
    const result = await withWorker(config, () =>
      run(config, { pipeline: 'intent-out-of-scope', params: { epochs: 4, reject_below: 0.8 } }),
    );
    assert.equal(result.status, 'succeeded');
    assert.equal(step(result, 'clean_train').outputs!.quarantined, 40, 'the held-out intent is not trained on');
    const scored = step(result, 'evaluate').outputs!;
    const store = new FileArtifactStore(join(config.home, 'artifacts'));
    const report = await readMetricsReport(store, scored.metrics as ArtifactRef);
    assert.equal(report.labels.length, 6, "the model's classes: six intents");
    assert.deepEqual(scoredLabels(report).slice(-1), ['out_of_scope']);
    const scope = report.out_of_scope!;
    assert.equal(scope.rows, 10, 'the 10 SearchScreeningEvent test rows are out of scope');
    assert.equal(scope.reject_below, 0.8);
    const confusion = report.confusion!;
    assert.equal(confusion.length, 7);
    const k = 6;
    const rejected = confusion.reduce((sum, row) => sum + row[k]!, 0);
    assert.equal(scope.rejected, rejected, 'the rejections are the confusion matrix’s out-of-scope column');
    const inScopeRight = confusion.slice(0, k).reduce((sum, row, c) => sum + row[c]!, 0);
    assert.ok(Math.abs((scored.in_scope_accuracy as number) - inScopeRight / 60) < 1e-12);
    assert.ok(Math.abs((scored.oos_recall as number) - confusion[k]![k]! / 10) < 1e-12);
    assert.ok(Math.abs((scored.oos_precision as number) - (rejected === 0 ? 0 : confusion[k]![k]! / rejected)) < 1e-12);
    assert.deepEqual(
      report.per_class.map((c) => c.support),
      [10, 10, 10, 10, 10, 10, 10],
    );
    const used = scope.curve.find((p) => p.reject_below === 0.8)!;
    assert.equal(used.rejected, rejected);
    assert.equal(
      report.thresholds.map((t) => t.metric).join(),
      'in_scope_accuracy,oos_recall',
      'thresholds may name the out-of-scope metrics',
    );
  });

  test('runs steps whose inputs are ready concurrently, and a join step after both', async () => {
    const config = env.config();
    const yaml = `
name: parallel
steps:
  - { id: a, uses: wait, with: { ms: 1500 } }
  - { id: b, uses: wait, with: { ms: 1500 } }
  - { id: c, uses: wait, with: { ms: 0 }, needs: [a, b] }
`;
    const result = await withWorker(config, () => run(config, { pipeline: yaml }));
    const [a, b, c] = ['a', 'b', 'c'].map((id) => step(result, id).outputs as { started: number; ended: number });
    assert.ok(
      a!.started < b!.ended && b!.started < a!.ended,
      `a [${a!.started}, ${a!.ended}] and b [${b!.started}, ${b!.ended}] overlap`,
    );
    assert.ok(c!.started >= Math.max(a!.ended, b!.ended), 'c starts after both');
  });

  test('a step follows the one before without waiting for the server to read its queues', async () => {
    // By default the server reads the queue that turns a finished activity into the next workflow
    // task at most 20 times a second: once the burst it allows at first was spent (some 40 steps),
    // every step waited ~35 ms for it (median 36 ms here with the default, 1.5 ms without).
    const config = env.config();
    const chain = Array.from(
      { length: 15 },
      (_, i) => `  - { id: s${i + 1}, uses: wait, with: { ms: 0 }${i > 0 ? `, needs: [s${i}]` : ''} }`,
    );
    const yaml = `name: chain\nsteps:\n${chain.join('\n')}\n`;
    const pickups = await withWorker(config, async () => {
      await run(config, { pipeline: yaml }); // past the burst the server allows at first
      const handle = await start(config, { pipeline: yaml });
      await handle.result();
      const events = (await handle.fetchHistory()).events ?? [];
      const at = (e: (typeof events)[number]) => Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
      const gaps: number[] = [];
      events.forEach((e, i) => {
        if (e.workflowTaskStartedEventAttributes && i > 0) gaps.push(at(e) - at(events[i - 1]!));
      });
      return gaps.sort((a, b) => a - b);
    });
    const median = pickups[pickups.length >> 1]!;
    assert.ok(
      median < 20,
      `workflow tasks waited ${median.toFixed(1)} ms (median of ${pickups.length}) to be picked up`,
    );
  });

  test('retries a failing step by its retry policy, then succeeds', async () => {
    const config = env.config();
    const yaml = `
name: retry
steps:
  - id: shaky
    uses: flaky
    with: { fail_times: 2 }
    retry: { max_attempts: 3, initial_interval: 100ms, backoff: 1 }
`;
    const result = await withWorker(config, () => run(config, { pipeline: yaml }));
    assert.equal(step(result, 'shaky').outputs!.attempts, 3);
  });

  test('a failing step fails the run, names the step, and cancels running siblings', async () => {
    const config = env.config();
    const yaml = `
name: failing
steps:
  - { id: slow, uses: wait, with: { ms: 20000 } }
  - { id: boom, uses: flaky, with: { fail_times: 5, non_retryable: true } }
  - { id: after_boom, uses: wait, with: { ms: 0 }, needs: [boom] }
`;
    const startedAt = Date.now();
    const error = await withWorker(config, () => failureOf(run(config, { pipeline: yaml })));
    assert.ok(Date.now() - startedAt < 15_000, 'did not wait for the slow sibling');
    const cause = error.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'StepFailed');
    assert.match(cause.message, /^step "boom" \(flaky\) failed: flaky failure on attempt 1$/);
    assert.ok(cause.cause instanceof ActivityFailure, 'the chain keeps the activity failure');
    assert.ok(observed.cancelled.has('slow'), 'the running sibling saw cancellation');
  });

  test('when: false skips the step and its dependents; when on outputs is evaluated at run time', async () => {
    const config = env.config();
    const yaml = `
name: conditional
params:
  gate: { type: boolean, default: false }
steps:
  - { id: gated, uses: wait, with: { ms: 0 }, when: "\${{ params.gate }}" }
  - { id: downstream, uses: wait, with: { ms: 0 }, needs: [gated] }
  - { id: source, uses: wait, with: { ms: 0, value: 5 } }
  - { id: big, uses: wait, with: { ms: 0 }, when: "\${{ steps.source.outputs.value > 3 }}" }
  - { id: small, uses: wait, with: { ms: 0 }, when: "\${{ steps.source.outputs.value <= 3 }}" }
`;
    const result = await withWorker(config, () => run(config, { pipeline: yaml }));
    const status = Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
    assert.deepEqual(status, {
      gated: 'skipped',
      downstream: 'skipped',
      source: 'succeeded',
      big: 'succeeded',
      small: 'skipped',
    });
    const opened = await withWorker(config, () => run(config, { pipeline: yaml, params: { gate: true } }));
    assert.equal(step(opened, 'downstream').status, 'succeeded');
  });

  test('cancelling a run from a client stops the running step and ends the run as cancelled', async () => {
    const config = env.config();
    const yaml = `
name: cancellable
steps:
  - { id: long_step, uses: wait, with: { ms: 60000 } }
  - { id: never, uses: wait, with: { ms: 0 }, needs: [long_step] }
`;
    await withWorker(config, async () => {
      const handle = await start(config, { pipeline: yaml });
      await waitFor(async () => {
        const p = await handle.query(progressQuery);
        return p.steps.find((s) => s.id === 'long_step')?.status === 'running' ? true : undefined;
      });
      await handle.cancel();
      const error = await failureOf(handle.result());
      assert.ok(error.cause instanceof CancelledFailure, `cause is ${String(error.cause)}`);
      assert.ok(observed.cancelled.has('long_step'));
      const progress = await handle.query(progressQuery);
      assert.equal(progress.status, 'cancelled');
      assert.deepEqual(
        progress.steps.map((s) => s.status),
        ['cancelled', 'cancelled'],
      );
      assert.equal((await handle.describe()).status.name, 'CANCELLED');
    });
  });

  test('an invalid pipeline fails the run at once with file:line:col messages', async () => {
    const config = env.config();
    const yaml = `name: broken
steps:
  - id: a
    uses: wait
    wth: { ms: 1 }
`;
    const error = await withWorker(config, () => failureOf(run(config, { pipeline: yaml })));
    const cause = error.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'InvalidPipeline');
    assert.match(cause.message, /<inline>:5:5: step "a": wth: unknown key "wth" \(did you mean "with"\?\)/);
    assert.match(cause.message, /<inline>:3:5: step 1: missing required key "with"/);
    assert.match(cause.message, /\n 5 \| {5}wth: \{ ms: 1 \}\n {3}\| {5}\^/, 'shows the source line and a caret');
  });

  test('a run never reads a file outside the data roots: it is refused before any step, naming the place', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pipewright-roots-'));
    try {
      // A symlink inside a data root that points out of it is followed, and refused.
      symlinkSync('/etc/passwd', join(root, 'passwd.csv'));
      const config = { ...env.config(), dataRoots: [root] };
      const yaml = `name: escapes
steps:
  - id: absolute
    uses: load
    with: { path: /etc/passwd, format: csv }
  - id: proc
    uses: load
    with: { path: /proc/self/environ, format: csv }
  - id: link
    uses: load
    with: { path: passwd.csv }
`;
      const error = await withWorker(config, () => failureOf(run(config, { pipeline: yaml })));
      const cause = error.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.type, 'InvalidPipeline', 'the run failed compiling, before any step ran');
      assert.match(
        cause.message,
        /<inline>:5:19: step "absolute": with\.path: path "\/etc\/passwd" resolves to \/etc\/passwd, outside the folders pipelines may read/,
      );
      assert.match(
        cause.message,
        /<inline>:8:19: step "proc": with\.path: path "\/proc\/self\/environ" resolves to \/proc\/\d+\/environ, outside/,
      );
      assert.match(
        cause.message,
        /<inline>:11:19: step "link": with\.path: path "passwd\.csv" resolves to \/etc\/passwd, outside/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  /** What the `__temporal_workflow_metadata` query answers (the parts the Web UI reads). */
  interface WorkflowMetadata {
    readonly currentDetails?: string;
    readonly definition: {
      readonly signalDefinitions: { name: string; description?: string }[];
      readonly queryDefinitions: { name: string; description?: string }[];
    };
  }

  test('a running pipeline answers the progress query and shows a step table in the UI details', async () => {
    const config = env.config();
    const yaml = `
name: observable
steps:
  - { id: first, uses: wait, with: { ms: 0 } }
  - { id: second, uses: wait, with: { ms: 3000 }, needs: [first] }
`;
    await withWorker(config, async () => {
      const handle = await start(config, { pipeline: yaml, runName: 'nightly' });
      const progress: PipelineProgress = await waitFor(async () => {
        const p = await handle.query(progressQuery);
        return p.steps.find((s) => s.id === 'second')?.status === 'running' ? p : undefined;
      });
      assert.equal(progress.pipeline, 'observable');
      assert.equal(progress.status, 'running');
      assert.equal(progress.steps.find((s) => s.id === 'first')?.status, 'succeeded');
      const metadata = await handle.query<WorkflowMetadata>('__temporal_workflow_metadata');
      assert.match(metadata.currentDetails ?? '', /\*\*observable · nightly\*\* — running, 1 of 2 steps finished/);
      // What the Web UI offers: described queries and signals for people, no internal plumbing.
      const described = (list: { name: string; description?: string }[]) =>
        Object.fromEntries(list.filter((d) => !d.name.startsWith('__')).map((d) => [d.name, d.description ?? '']));
      const signals = described(metadata.definition.signalDefinitions);
      assert.deepEqual(Object.keys(signals).sort(), ['approve', 'stopTraining']);
      const queries = described(metadata.definition.queryDefinitions);
      assert.deepEqual(Object.keys(queries), ['progress']);
      for (const [name, description] of Object.entries({ ...signals, ...queries }))
        assert.ok(description.length > 20, `${name} has a description`);
      assert.match(
        metadata.currentDetails ?? '',
        /\n```\n {2}step +activity +status +time +result\n(.*\n)*▶ second +wait +running /,
      );
      await handle.result();
    });
  });
});
