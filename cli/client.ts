import { Client, Connection } from '@temporalio/client';
import type { PipewrightConfig } from '../worker/config';
import { UserError } from './user-error';

/** How long a server that answers but is still starting ("Frontend is not healthy yet") is waited for. */
const STARTING_SERVER_WAIT_MS = 15_000;

/** A Temporal client for the configured server, with a clear error when none is listening. */
export async function connectClient(config: PipewrightConfig): Promise<Client> {
  const deadline = Date.now() + STARTING_SERVER_WAIT_MS;
  for (;;) {
    try {
      const connection = await Connection.connect({
        address: config.temporalAddress,
        connectTimeout: '5s',
        ...(config.tls && { tls: true }),
        ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
      });
      return new Client({ connection, namespace: config.namespace });
    } catch (error) {
      const starting = /not healthy yet/i.test((error as Error).message);
      if (starting && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      throw unreachable(config, error);
    }
  }
}

function unreachable(config: PipewrightConfig, error: unknown): UserError {
  return new UserError(
    `cannot reach Temporal at ${config.temporalAddress} (${(error as Error).message}).\n` +
      'Start a local server with `pipewright dev`, or point TEMPORAL_ADDRESS at your cluster.',
  );
}
