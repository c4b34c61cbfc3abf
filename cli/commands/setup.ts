import type { Command } from 'commander';
import { join } from 'node:path';
import { provisionTfjsNode } from '../../ml/backend/provision-tfjs-node';
import { PROJECT_ROOT } from '../../worker/config';
import { findTemporalCli } from '../../worker/temporal-cli';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'Install what Pipewright needs outside npm (the Temporal CLI, the native TensorFlow addon) into the project, if missing',
    )
    .action(async () => {
      const cli = await findTemporalCli({ install: true, log: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`Temporal CLI: ${cli}\n`);
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const tf = provisionTfjsNode({ cacheDir: join(PROJECT_ROOT, '.tools', 'wheels'), log });
      process.stdout.write(`Native TensorFlow backend (${tf.how}): ${tf.check}\n`);
    });
}
