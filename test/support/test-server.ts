import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { PipewrightConfig } from '../../worker/config';
import { loadConfig, PROJECT_ROOT } from '../../worker/config';
import { startDevServer, type DevServer } from '../../worker/dev-server';
import { findTemporalCli } from '../../worker/temporal-cli';

/** A real Temporal dev server (in memory, no UI) for one test file, with a client and a scratch state folder. */
export interface TestServer {
  readonly server: DevServer;
  readonly client: Client;
  readonly cli: string;
  readonly home: string;
  /** A config with a fresh task queue, so tests never see each other's tasks. */
  config(): PipewrightConfig;
  stop(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  // Expected failures in tests make the SDK log warnings; keep the test output readable.
  process.env.PIPEWRIGHT_LOG_LEVEL ??= 'ERROR';
  const cli = await findTemporalCli({ install: true });
  const server = await startDevServer({ cli });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const home = mkdtempSync(join(tmpdir(), 'pipewright-test-'));
  return {
    server,
    client,
    cli,
    home,
    config: () => ({
      ...loadConfig({}),
      temporalAddress: server.address,
      taskQueue: `test-${randomUUID()}`,
      home,
      pipelinesDir: join(PROJECT_ROOT, 'pipelines'),
    }),
    stop: async () => {
      await connection.close();
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
