import { Client, Connection } from '@temporalio/client';
import type { PipewrightConfig } from '../worker/config';
import { untilServing } from '../worker/until-serving';
import { UserError } from './user-error';

/** A Temporal client for the configured server, with a clear error when none is listening. */
export async function connectClient(config: PipewrightConfig): Promise<Client> {
  try {
    const connection = await untilServing(() =>
      Connection.connect({
        address: config.temporalAddress,
        connectTimeout: '5s',
        ...(config.tls && { tls: true }),
        ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
      }),
    );
    return new Client({ connection, namespace: config.namespace });
  } catch (error) {
    throw unreachable(config, error);
  }
}

function unreachable(config: PipewrightConfig, error: unknown): UserError {
  return new UserError(
    `cannot reach Temporal at ${config.temporalAddress} (${(error as Error).message}).\n` +
      'Start a local server with `pipewright dev`, or point TEMPORAL_ADDRESS at your cluster.',
  );
}
