import type { Command } from 'commander';
import { loadConfig } from '../../worker/config';
import { connectClient } from '../client';

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description('Cancel a run; running steps stop at their next heartbeat')
    .argument('<workflowId>', 'the run’s workflow id')
    .action(async (workflowId: string) => {
      const client = await connectClient(loadConfig());
      await client.workflow.getHandle(workflowId).cancel();
      process.stdout.write(`Cancellation requested for ${workflowId}\n`);
    });
}
