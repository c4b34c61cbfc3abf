import type { Command } from 'commander';
import { createCatalog } from '../../spec/activity-catalog';
import { formatDiagnostics, PipelineError } from '../../spec/diagnostics';
import { loadPathProblems } from '../../activities/load';
import { buildPlan, readPipelineRef, validatePipelineText } from '../../spec/load-pipeline';
import { loadConfig } from '../../worker/config';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check pipeline files and report every problem as file:line:col')
    .argument('<files...>', 'pipeline files (or names in the pipelines folder)')
    .action((files: string[]) => {
      const config = loadConfig();
      const catalog = createCatalog();
      let invalid = 0;
      for (const ref of files) {
        try {
          const input = readPipelineRef(ref, config.pipelinesDir);
          const result = validatePipelineText(input, catalog);
          if (result.ok) {
            // Files no run could read are refused here too, as the worker would with these data roots;
            // a file missing on this machine may be there on the worker's.
            buildPlan(ref, catalog, {
              pipelinesDir: config.pipelinesDir,
              checkPlan: (plan) => loadPathProblems(plan, config.dataRoots, { missing: false }),
            });
            process.stdout.write(`✔ ${input.file}: valid (${result.pipeline.spec.steps.length} steps)\n`);
          } else {
            invalid++;
            const count = result.diagnostics.length;
            process.stderr.write(
              `${formatDiagnostics(result.diagnostics, result.text)}\n✘ ${input.file}: ${count} problem${count === 1 ? '' : 's'}\n`,
            );
          }
        } catch (error) {
          if (!(error instanceof PipelineError)) throw error;
          invalid++;
          process.stderr.write(`${error.rendered}\n`);
        }
      }
      if (invalid > 0) process.exitCode = 2;
    });
}
