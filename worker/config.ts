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

/** Reads the configuration; every setting has a default that works for a local checkout. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PipewrightConfig {
  const home = resolve(env.PIPEWRIGHT_HOME ?? join(process.cwd(), '.pipewright'));
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.PIPEWRIGHT_TASK_QUEUE ?? 'pipewright',
    home,
    pipelinesDir: resolve(env.PIPEWRIGHT_PIPELINES ?? join(process.cwd(), 'pipelines')),
    dataRoots: (env.PIPEWRIGHT_DATA_ROOTS ?? '')
      .split(delimiter)
      .filter((p) => p !== '')
      .map((p) => resolve(p)),
    uiUrl: env.PIPEWRIGHT_UI_URL ?? 'http://127.0.0.1:8233',
    ...(env.TEMPORAL_API_KEY !== undefined && { apiKey: env.TEMPORAL_API_KEY }),
    tls: env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY !== undefined,
  };
}

/** Link to a run in the Temporal Web UI. */
export function workflowUrl(config: Pick<PipewrightConfig, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
