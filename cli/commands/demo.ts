import type { Command } from 'commander';
import { join } from 'node:path';
import { loadConfig, PROJECT_ROOT, workflowUrl } from '../../worker/config';
import { startActivityProcess } from '../../worker/activity-process';
import { connectWorker, createWorkers, runWorkers } from '../../worker/create-workers';
import { freePort, portOpen, startDevServer } from '../../worker/dev-server';
import { PIPELINE_SEARCH_ATTRIBUTE } from '../../worker/search-attribute';
import { findTemporalCli } from '../../worker/temporal-cli';
import type { PipelineInput } from '../../workflows/pipeline';
import { connectClient } from '../client';
import { printMetrics } from '../metrics-table';
import { ProgressPrinter } from '../render-progress';
import { onShutdownSignal } from '../shutdown';
import { failureAdvice, watchRun } from '../watch-run';
import { exitCodeFor } from './run';

const DEMO_PIPELINE = 'snips-intent';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the example pipeline end to end on an embedded Temporal dev server')
    .option('--keep', 'keep the server and worker running afterwards, to explore the Web UI')
    .option('--no-cache', 'run every step even if cached')
    .action(async (options: { keep?: boolean; cache: boolean }) => {
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const cli = await findTemporalCli({ install: true, log: (l) => say(`setup: ${l}`) });
      const port = (await portOpen(7233)) ? await freePort() : 7233;
      const uiPort = (await portOpen(8233)) ? await freePort() : 8233;
      say(`Starting the Temporal dev server (${cli})…`);
      const server = await startDevServer({ cli, port, uiPort });
      const config = {
        ...loadConfig(),
        temporalAddress: server.address,
        uiUrl: server.uiUrl!,
        pipelinesDir: join(PROJECT_ROOT, 'pipelines'),
      };
      say(`Temporal dev server on ${server.address}; Web UI: ${server.uiUrl}`);
      const controller = new AbortController();
      onShutdownSignal(() => controller.abort());
      const connection = await connectWorker(config);
      let workersDone: Promise<void> | undefined;
      // Workflow tasks here, steps in a process of their own (as `pipewright dev` does).
      const steps = startActivityProcess(config, say);
      try {
        const workers = await createWorkers({ connection, config, queue: 'all', role: 'workflows', log: say });
        workersDone = runWorkers(workers, controller.signal);
        const client = await connectClient(config);
        const workflowId = `${DEMO_PIPELINE}-demo-${Date.now()}`;
        const input: PipelineInput = { pipeline: DEMO_PIPELINE, ...(!options.cache && { noCache: true }) };
        const handle = await client.workflow.start('pipeline', {
          taskQueue: config.taskQueue,
          workflowId,
          args: [input],
          memo: { pipeline: DEMO_PIPELINE },
          typedSearchAttributes: [{ key: PIPELINE_SEARCH_ATTRIBUTE, value: DEMO_PIPELINE }],
          staticSummary: `Pipewright pipeline ${DEMO_PIPELINE} (demo)`,
        });
        say(`Started ${DEMO_PIPELINE} as ${workflowId}\n  ${workflowUrl(config, workflowId)}\n`);
        const outcome = await watchRun(handle, ProgressPrinter.for(process.stdout, false));
        say('');
        if (outcome.status === 'succeeded') {
          await printMetrics(config, outcome, workflowId);
          say('');
          say(`Run ${workflowId} succeeded. Artifacts are in ${join(config.home, 'artifacts')}.`);
        } else {
          say(`Run ${workflowId} ${outcome.status}: ${outcome.error ?? ''}`);
          if (outcome.failure) say(failureAdvice(outcome.failure));
        }
        process.exitCode = exitCodeFor(outcome);
        if (options.keep) {
          say(`\nServer and worker keep running: open ${server.uiUrl} — Ctrl-C to stop.`);
          await workersDone;
        }
      } finally {
        controller.abort();
        await workersDone;
        await steps.stop();
        await connection.close();
        await server.stop();
      }
    });
}
