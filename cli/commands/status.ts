import type { Command } from 'commander';
import { loadConfig, workflowUrl } from '../../worker/config';
import { connectClient } from '../client';
import { trainingHistories } from '../training-histories';
import { epochTableText } from '../../workflows/training-progress';
import { table } from '../render-progress';
import { runProgress } from '../run-progress';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("Show a run: its status, step table and each train step's epoch table")
    .argument('<workflowId>', 'the run’s workflow id')
    .option('--json', 'print the progress as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      const handle = client.workflow.getHandle(workflowId);
      const description = await handle.describe();
      const progress = await runProgress(handle);
      const training = progress ? await trainingHistories(handle, progress) : [];
      if (options.json) {
        process.stdout.write(
          JSON.stringify({ workflowId, status: description.status.name, progress, training }, null, 2) + '\n',
        );
        return;
      }
      process.stdout.write(
        `${workflowId}: ${description.status.name} (started ${description.startTime.toISOString()})\n  ${workflowUrl(config, workflowId)}\n`,
      );
      if (progress) {
        process.stdout.write(table(progress, Date.now()).join('\n') + '\n');
        if (progress.error) process.stdout.write(`error: ${progress.error}\n`);
        for (const history of training) process.stdout.write(['', ...epochTableText(history)].join('\n') + '\n');
      } else {
        process.stdout.write('(no step table: no worker is available to answer the progress query)\n');
      }
    });
}
