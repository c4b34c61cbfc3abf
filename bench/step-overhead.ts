// What orchestration costs per step: a chain of `clean` steps on a 20-row dataset, run as a
// pipeline through a real Temporal dev server (in memory) and an in-process worker, against the
// same activities called one after another in this process without Temporal. A step's overhead is
// the time from the previous step's end to its own end in the run, less the same step's direct
// time (scheduling, the workflow task that starts it, the result's way back, progress, the run
// record). Then the pipeline again with every step answered from the cache. Rounds alternate;
// medians and 95th percentiles over every step of every round. With --while-training, a training
// loop of the benchmark encoder (bench/train-throughput's, on the native backend) runs in another
// process the whole time, as an epoch would on a machine that also runs data steps.
// Usage: node dist/bench/step-overhead.js [--steps 20] [--rounds 3] [--while-training]
import { MockActivityEnvironment } from '@temporalio/testing';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createActivities, type StepInput } from '../activities';
import type { ArtifactRef } from '../core/artifacts';
import { loadConfig } from '../worker/config';
import { activityDeps, connectWorker, createWorkers, runWorkers } from '../worker/create-workers';
import { startDevServer } from '../worker/dev-server';
import { findTemporalCli } from '../worker/temporal-cli';
import type { PipelineResult } from '../workflows/pipeline';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

function pipelineYaml(steps: number): string {
  const cleans = Array.from({ length: steps }, (_, i) => {
    const from = i === 0 ? 'load' : `clean_${i}`;
    return `  - id: clean_${i + 1}
    uses: clean
    inputs: { dataset: '\${{ steps.${from}.outputs.dataset }}' }
    with: { dedupe: false }`;
  });
  return `name: step-overhead
steps:
  - id: load
    uses: load
    with: { path: rows.jsonl }
${cleans.join('\n')}
`;
}

async function main(): Promise<void> {
  const steps = arg('steps', 20);
  const rounds = arg('rounds', 3);
  process.env.PIPEWRIGHT_LOG_LEVEL ??= 'ERROR';
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-overhead-'));
  writeFileSync(
    join(dir, 'rows.jsonl'),
    Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `a short text number ${i}`, label: `l${i % 3}` })).join(
      '\n',
    ),
  );
  const training = process.argv.includes('--while-training')
    ? spawn(process.execPath, [join(__dirname, 'train-throughput.js'), '--child', 'tensorflow', '--steps', '1000000'], {
        stdio: 'ignore',
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
      })
    : undefined;
  if (training) {
    console.log(`training the benchmark encoder alongside, in process ${training.pid}`);
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // past its graph build and warm-up steps
  }
  const server = await startDevServer({ cli: await findTemporalCli({ install: true }) });
  const config = {
    ...loadConfig({}),
    home: join(dir, 'home'),
    temporalAddress: server.address,
    taskQueue: `bench-${randomUUID()}`,
    dataRoots: [dir],
    pipelinesDir: dir,
  };
  const connection = await connectWorker(config);
  const workers = await createWorkers({ connection, config, queue: 'all' });
  const controller = new AbortController();
  const running = runWorkers(workers, controller.signal);
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  const yaml = pipelineYaml(steps);
  const run = (noCache: boolean) =>
    client.workflow.execute('pipeline', {
      taskQueue: config.taskQueue,
      workflowId: `overhead-${randomUUID()}`,
      args: [{ pipeline: yaml, noCache }],
    }) as Promise<PipelineResult>;

  // The same activities, called directly: what the steps cost without orchestration.
  const activities = createActivities(activityDeps(config));
  const env = new MockActivityEnvironment();
  const call = <R>(activity: (input: StepInput) => Promise<R>, input: StepInput): Promise<R> =>
    env.run(activity, input);
  const stepInput = (id: string, withValues: Record<string, unknown>, inputs: Record<string, ArtifactRef>) =>
    ({
      run: { workflowId: 'direct', runId: 'direct', pipeline: 'step-overhead', dir },
      stepId: id,
      with: withValues,
      inputs,
      cache: false,
    }) satisfies StepInput;
  const direct = async (): Promise<number[]> => {
    const times: number[] = [];
    let began = performance.now();
    let previous = (await call(activities.load, stepInput('load', { path: 'rows.jsonl' }, {}))).outputs.dataset;
    times.push(performance.now() - began);
    for (let i = 0; i < steps; i++) {
      began = performance.now();
      const cleaned = await call(
        activities.clean,
        stepInput(`clean_${i + 1}`, { dedupe: false }, { dataset: previous }),
      );
      previous = cleaned.outputs.dataset;
      times.push(performance.now() - began);
    }
    return times;
  };
  /** Each step's time from the previous step's end (the run's start for the first) to its own end. */
  const stepTimes = (result: PipelineResult, startedAt: number) =>
    result.steps.map((s, i) => s.endedAt! - (i === 0 ? startedAt : result.steps[i - 1]!.endedAt!));

  await run(true); // warm up: bundle loaded, first workflow task, caches of the backend
  await direct();
  const overheads: number[] = [];
  const cachedTimes: number[] = [];
  const totals: { pipeline: number; direct: number; cached: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const ownTimes = await direct();
    const directTotal = ownTimes.reduce((a, b) => a + b, 0);
    let began = Date.now();
    const result = await run(true);
    const pipelineTotal = Date.now() - began;
    stepTimes(result, began).forEach((t, i) => overheads.push(t - ownTimes[i]!));
    began = Date.now();
    const cached = await run(false);
    const cachedTotal = Date.now() - began;
    if (!cached.steps.every((s) => s.status === 'cached')) throw new Error('the second run was not all cached');
    cachedTimes.push(...stepTimes(cached, began));
    totals.push({ pipeline: pipelineTotal, direct: directTotal, cached: cachedTotal });
    console.log(
      `round ${round + 1}: ${steps + 1} steps — pipeline ${ms(pipelineTotal)}, direct ${ms(directTotal)}, cached re-run ${ms(cachedTotal)}`,
    );
  }
  console.log(
    `per-step overhead over ${overheads.length} steps: median ${ms(quantile(overheads, 0.5))}, p95 ${ms(quantile(overheads, 0.95))}`,
  );
  console.log(
    `cached step, from the previous step's end: median ${ms(quantile(cachedTimes, 0.5))}, p95 ${ms(quantile(cachedTimes, 0.95))}`,
  );
  const perStep = totals.map((t) => (t.pipeline - t.direct) / (steps + 1));
  console.log(`whole run, (pipeline − direct) / steps: median ${ms(quantile(perStep, 0.5))}`);

  controller.abort();
  await running;
  await connection.close();
  await clientConnection.close();
  await server.stop();
  if (training && training.exitCode === null) {
    training.kill('SIGKILL');
    console.log('the training process trained throughout');
  } else if (training) console.log(`the training process ended early (exit ${training.exitCode}): not a loaded run`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
