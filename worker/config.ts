import { readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** The project checkout this code runs from (dist/worker/ → two levels up). */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** Settings shared by the CLI, the worker and the dev server, read from the environment. */
export interface PipewrightConfig {
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly taskQueue: string;
  /** State folder: artifacts, step cache, the dev server's database. */
  readonly home: string;
  readonly pipelinesDir: string;
  readonly dataRoots: readonly string[];
  readonly uiUrl: string;
  readonly apiKey?: string;
  readonly tls: boolean;
}

/** What a running `pipewright dev` leaves in its state folder, so commands there find its ports. */
export interface DevServerRecord {
  /** The `pipewright dev` process. */
  readonly pid: number;
  /** The Temporal server it started (at the time it started it; it restarts a server that dies). */
  readonly serverPid: number;
  readonly address: string;
  readonly uiUrl: string;
}

/** Where `pipewright dev` records itself while it runs. */
export function devServerRecordPath(home: string): string {
  return join(home, 'dev-server.json');
}

/** The dev server recorded in `home`, if its process is still alive. */
function runningDevServer(home: string): DevServerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(devServerRecordPath(home), 'utf8')) as DevServerRecord;
    process.kill(record.pid, 0);
    return record;
  } catch {
    return undefined;
  }
}

/**
 * Reads the configuration; every setting has a default that works for a local checkout. Without
 * TEMPORAL_ADDRESS (and PIPEWRIGHT_UI_URL), a `pipewright dev` running on the same state folder
 * supplies its server's address and Web UI, whatever ports it chose.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PipewrightConfig {
  const home = resolve(env.PIPEWRIGHT_HOME ?? join(process.cwd(), '.pipewright'));
  const dev = runningDevServer(home);
  const sameServer = dev !== undefined && (env.TEMPORAL_ADDRESS === undefined || env.TEMPORAL_ADDRESS === dev.address);
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? dev?.address ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.PIPEWRIGHT_TASK_QUEUE ?? 'pipewright',
    home,
    pipelinesDir: resolve(env.PIPEWRIGHT_PIPELINES ?? join(process.cwd(), 'pipelines')),
    dataRoots: (env.PIPEWRIGHT_DATA_ROOTS ?? '')
      .split(delimiter)
      .filter((p) => p !== '')
      .map((p) => resolve(p)),
    uiUrl: env.PIPEWRIGHT_UI_URL ?? (sameServer ? dev.uiUrl : 'http://127.0.0.1:8233'),
    ...(env.TEMPORAL_API_KEY !== undefined && { apiKey: env.TEMPORAL_API_KEY }),
    tls: env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY !== undefined,
  };
}

/** Link to a run in the Temporal Web UI. */
export function workflowUrl(config: Pick<PipewrightConfig, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
