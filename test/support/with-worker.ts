import type { PipewrightConfig } from '../../worker/config';
import { connectWorker, createWorkers, runWorkers } from '../../worker/create-workers';
import { TEST_ACTIVITIES } from './test-activities';

/** Runs `body` while an in-process worker (built-ins plus test activities) serves `config`'s task queues. */
export async function withWorker<T>(config: PipewrightConfig, body: () => Promise<T>): Promise<T> {
  const connection = await connectWorker(config);
  const workers = await createWorkers({ connection, config, queue: 'all', extra: TEST_ACTIVITIES });
  const controller = new AbortController();
  const running = runWorkers(workers, controller.signal);
  try {
    return await body();
  } finally {
    controller.abort();
    await running;
    await connection.close();
  }
}
