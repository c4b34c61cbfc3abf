import { Option, type Command } from 'commander';
import { loadConfig } from '../../worker/config';
import {
  connectWorker,
  createWorkers,
  runWorkers,
  WORKER_QUEUES,
  WORKER_ROLES,
  type WorkerQueue,
  type WorkerRole,
} from '../../worker/create-workers';
import { onShutdownSignal } from '../shutdown';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker that executes pipeline workflows and steps')
    .addOption(
      new Option('--queue <queue>', 'which steps to run: cpu (and workflows), gpu, or all')
        .choices(WORKER_QUEUES)
        .default('all'),
    )
    .addOption(
      new Option('--role <role>', 'run workflow tasks, steps (activities), or both')
        .choices(WORKER_ROLES)
        .default('both'),
    )
    .option('--task-queue <name>', 'base task queue name (gpu steps use <name>-gpu)')
    .action(async (options: { queue: WorkerQueue; role: WorkerRole; taskQueue?: string }) => {
      const config = { ...loadConfig(), ...(options.taskQueue !== undefined && { taskQueue: options.taskQueue }) };
      const connection = await connectWorker(config);
      const workers = await createWorkers({
        connection,
        config,
        queue: options.queue,
        role: options.role,
        log: (l) => process.stdout.write(`${l}\n`),
      });
      const controller = new AbortController();
      onShutdownSignal(() => controller.abort());
      await runWorkers(workers, controller.signal);
      await connection.close();
    });
}
