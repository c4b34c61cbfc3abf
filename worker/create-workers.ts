import { join } from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createCatalog, type ActivityContract } from '../core/activity-catalog';
import { taskQueueFor } from '../workflows/activity-options';
import { PROJECT_ROOT, type PipewrightConfig } from './config';
import { openLocalState } from './local-state';
import { untilServing } from './until-serving';
import { gpuReport, loadBackend } from '../ml/backend/load-backend';

export const WORKER_QUEUES = ['cpu', 'gpu', 'all'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

/** Activities a worker adds to the built-ins, with the contracts the validator checks them by. */
export interface ExtraActivities {
  readonly contracts: readonly ActivityContract[];
  readonly implementations: Readonly<Record<string, (...args: never[]) => Promise<unknown>>>;
}

export const WORKER_ROLES = ['workflows', 'activities', 'both'] as const;
/** What a worker process runs: workflow tasks, activities (steps), or both. */
export type WorkerRole = (typeof WORKER_ROLES)[number];

export interface WorkerSetup {
  readonly connection: NativeConnection;
  readonly config: PipewrightConfig;
  readonly queue: WorkerQueue;
  /** Default both. Workflows only polls the main queue, whatever `queue` says; the gpu queue has no workflows. */
  readonly role?: WorkerRole;
  readonly extra?: ExtraActivities;
  readonly log?: (line: string) => void;
}

/** Training heartbeats every step; the server sees one every few seconds, for live progress. */
const HEARTBEAT_THROTTLE = '5 seconds';

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow code bundled once per process; bundling takes seconds. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** The dependencies activities get: the artifact store and step cache under the state folder. */
export function activityDeps(config: PipewrightConfig, contracts: readonly ActivityContract[] = []): ActivityDeps {
  return {
    ...openLocalState(config),
    catalog: createCatalog(contracts),
    pipelinesDir: config.pipelinesDir,
    dataRoots: config.dataRoots,
    toolsDir: join(PROJECT_ROOT, '.tools'),
  };
}

/**
 * Creates the workers for a queue: `cpu` polls the main task queue (workflows and CPU activities),
 * `gpu` polls `<queue>-gpu` (training), `all` does both in one process. A `workflows` role runs
 * only workflow tasks, an `activities` role only steps: split across two processes, a long step
 * never keeps a workflow task or a query waiting.
 */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const { config, connection } = setup;
  const role = setup.role ?? 'both';
  const runsActivities = role !== 'workflows';
  const deps = activityDeps(config, setup.extra?.contracts);
  const activities = runsActivities ? { ...createActivities(deps), ...setup.extra?.implementations } : undefined;
  const workers: Worker[] = [];
  if (setup.queue === 'cpu' || setup.queue === 'all' || role === 'workflows') {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.namespace,
        taskQueue: config.taskQueue,
        ...(role !== 'activities' && { workflowBundle: await workflowBundle() }),
        ...(activities && { activities }),
        maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
      }),
    );
  }
  if (runsActivities && (setup.queue === 'gpu' || setup.queue === 'all')) {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.namespace,
        taskQueue: taskQueueFor(config.taskQueue, 'gpu'),
        activities,
        maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
        // One training epoch at a time: two on the same device only slow each other down, and on a
        // 2-core machine two concurrent epochs starved each other's heartbeats into a timeout.
        maxConcurrentActivityTaskExecutions: 1,
      }),
    );
  }
  if (runsActivities && setup.queue === 'gpu') setup.log?.(gpuReport(await loadBackend()));
  const what = role === 'both' ? '' : ` (${role} only)`;
  setup.log?.(
    `worker polling ${workers.map((w) => w.options.taskQueue).join(' and ')}${what} on ${config.temporalAddress}`,
  );
  return workers;
}

let runtimeInstalled = false;

/** Connects a worker to the configured Temporal server, waiting while it starts (quiet SDK logging unless PIPEWRIGHT_LOG_LEVEL says otherwise). */
export function connectWorker(config: PipewrightConfig): Promise<NativeConnection> {
  if (!runtimeInstalled) {
    const level = (process.env.PIPEWRIGHT_LOG_LEVEL?.toUpperCase() ?? 'WARN') as LogLevel;
    const logger = new DefaultLogger(level, (entry) => {
      // Activity-only and workflow-only workers are by design; the SDK warns about them.
      if (entry.message.startsWith('No workflows registered') || entry.message.startsWith('No activities registered'))
        return;
      process.stderr.write(
        `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}\n`,
      );
    });
    Runtime.install({ logger });
    runtimeInstalled = true;
  }
  return untilServing(() =>
    NativeConnection.connect({
      address: config.temporalAddress,
      ...(config.tls && { tls: true }),
      ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
    }),
  );
}

/** Runs workers until one stops or `signal` aborts, then shuts all of them down. */
export async function runWorkers(workers: Worker[], signal?: AbortSignal): Promise<void> {
  const onAbort = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
