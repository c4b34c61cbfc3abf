// A worker process for tests that kill workers: built-in activities plus the test ones.
import { loadConfig } from '../../worker/config';
import { connectWorker, createWorkers, runWorkers } from '../../worker/create-workers';
import { TEST_ACTIVITIES } from './test-activities';

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await connectWorker(config);
  const workers = await createWorkers({ connection, config, queue: 'all', extra: TEST_ACTIVITIES });
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  const running = runWorkers(workers, controller.signal);
  process.stdout.write('worker ready\n');
  await running;
  await connection.close();
}

void main();
