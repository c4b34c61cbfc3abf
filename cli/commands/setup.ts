import type { Command } from 'commander';
import { findTemporalCli } from '../../worker/temporal-cli';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('Install what Pipewright needs outside npm (the Temporal CLI) into the project, if missing')
    .action(async () => {
      const cli = await findTemporalCli({ install: true, log: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`Temporal CLI: ${cli}\n`);
    });
}
