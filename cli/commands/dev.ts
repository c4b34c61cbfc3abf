import type { Command } from 'commander';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devServerRecordPath, loadConfig, type DevServerRecord } from '../../worker/config';
import { startActivityProcess } from '../../worker/activity-process';
import { connectWorker, createWorkers, runWorkers } from '../../worker/create-workers';
import { portOpen, superviseDevServer } from '../../worker/dev-server';
import { findTemporalCli } from '../../worker/temporal-cli';
import { onShutdownSignal } from '../shutdown';
import { UserError } from '../user-error';

const parsePort = (v: string) => Number.parseInt(v, 10);

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Start a local Temporal dev server (runs kept in .pipewright/temporal.sqlite) and a worker')
    .option('--port <port>', 'Temporal frontend port', parsePort, 7233)
    .option('--ui-port <port>', 'Web UI port', parsePort, 8233)
    .option('--no-worker', 'start only the server')
    .action(async (options: { port: number; uiPort: number; worker: boolean }) => {
      const base = loadConfig();
      for (const port of [options.port, options.uiPort]) {
        if (await portOpen(port))
          throw new UserError(
            `port ${port} on 127.0.0.1 is already in use (another dev server?); pick others with --port and --ui-port`,
          );
      }
      const cli = await findTemporalCli({ install: true, log: (l) => process.stderr.write(`${l}\n`) });
      const dbFile = join(base.home, 'temporal.sqlite');
      const log = (l: string) => process.stdout.write(`${l}\n`);
      const server = await superviseDevServer({ cli, port: options.port, uiPort: options.uiPort, dbFile }, log);
      const config = { ...base, temporalAddress: server.address, uiUrl: server.uiUrl! };
      process.stdout.write(
        `Temporal dev server on ${server.address} (runs kept in ${dbFile})\nWeb UI: ${server.uiUrl}\n` +
          `Start a run: pipewright run <pipeline>, or Start Workflow in the UI with type "pipeline", task queue "${config.taskQueue}"\n`,
      );
      const record: DevServerRecord = {
        pid: process.pid,
        serverPid: server.pid()!,
        address: server.address,
        uiUrl: server.uiUrl!,
      };
      mkdirSync(base.home, { recursive: true });
      writeFileSync(devServerRecordPath(base.home), JSON.stringify(record));
      const controller = new AbortController();
      onShutdownSignal(() => controller.abort());
      try {
        if (options.worker) {
          // Workflow tasks here, steps in a process of their own: a long epoch never keeps a query waiting.
          const steps = startActivityProcess(config, log);
          try {
            const connection = await connectWorker(config);
            const workers = await createWorkers({ connection, config, queue: 'all', role: 'workflows', log });
            await runWorkers(workers, controller.signal);
            await connection.close();
          } finally {
            await steps.stop();
          }
        } else {
          await new Promise((resolve) => controller.signal.addEventListener('abort', resolve, { once: true }));
        }
      } finally {
        rmSync(devServerRecordPath(base.home), { force: true });
        await server.stop();
      }
    });
}
