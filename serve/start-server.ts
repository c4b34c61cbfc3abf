import { loadBackend } from '../ml/backend/load-backend';
import type { ArtifactStore } from '../store/artifact-store';
import type { ModelRegistry } from '../store/model-registry';
import type { RunRecords } from '../store/run-records';
import { InferenceServer, type ServeLimits } from './http-server';
import type { BatchingOptions } from './micro-batcher';
import { ServedModel } from './served-model';

export interface ServeOptions {
  readonly store: ArtifactStore;
  readonly registry: ModelRegistry;
  /** The run records, where each version's run report is found. */
  readonly runs: RunRecords;
  /** Model names to serve; all registered ones when empty. */
  readonly models: readonly string[];
  readonly port: number;
  readonly host?: string;
  readonly batching: BatchingOptions;
  readonly limits: ServeLimits;
  readonly token?: string;
  /** Serve /metrics without the token. */
  readonly publicMetrics?: boolean;
  /** How often the registry is checked for a newly deployed version. */
  readonly pollMs: number;
  readonly log: (line: string) => void;
}

/** A running inference server and what stops it. */
export interface RunningServer {
  readonly url: string;
  readonly server: InferenceServer;
  readonly models: ReadonlyMap<string, ServedModel>;
  stop(): Promise<void>;
}

/** Loads the deployed versions, starts the HTTP server, and follows the registry for new deployments. */
export async function startInferenceServer(options: ServeOptions): Promise<RunningServer> {
  const { tf, backend } = await loadBackend();
  const names = options.models.length > 0 ? options.models : await options.registry.names();
  const models = new Map(
    names.map((name) => [
      name,
      new ServedModel(tf, options.store, options.registry, name, options.batching, options.log),
    ]),
  );
  await Promise.all([...models.values()].map((m) => m.refresh()));
  const server = new InferenceServer({
    models,
    registry: options.registry,
    store: options.store,
    runs: options.runs,
    limits: options.limits,
    ...(options.token !== undefined && { token: options.token }),
    publicMetrics: options.publicMetrics === true,
  });
  const address = await server.listen(options.port, options.host);
  const poll = setInterval(() => {
    for (const model of models.values()) void model.refresh();
  }, options.pollMs);
  const url = `http://${address.address}:${address.port}`;
  options.log(`serving ${names.join(', ') || 'no models'} on ${url} (backend ${backend})`);
  return {
    url,
    server,
    models,
    stop: async () => {
      clearInterval(poll);
      await server.close();
      for (const model of models.values()) model.dispose();
    },
  };
}
