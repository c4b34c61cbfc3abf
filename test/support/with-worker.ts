import type { PipewrightConfig } from '../../worker/config';
import { connectWorker, createWorkers, runWorkers, type WorkerQueue } from '../../worker/create-workers';
import { TEST_ACTIVITIES } from './test-activities';

/** Starts an in-process worker (built-ins plus test activities) for `config`'s queues; resolves to a stop function. */
export async function startWorker(config: PipewrightConfig, queue: WorkerQueue = 'all'): Promise<() => Promise<void>> {
  const connection = await connectWorker(config);
  const workers = await createWorkers({ connection, config, queue, extra: TEST_ACTIVITIES });
  const controller = new AbortController();
  const running = runWorkers(workers, controller.signal);
  return async () => {
    controller.abort();
    await running;
    await connection.close();
  };
}

/** Runs `body` while an in-process worker serves `config`'s task queues. */
export async function withWorker<T>(config: PipewrightConfig, body: () => Promise<T>): Promise<T> {
  const stop = await startWorker(config);
  try {
    return await body();
  } finally {
    await stop();
  }
}
