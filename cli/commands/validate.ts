import type { Command } from 'commander';
import { createCatalog, type ActivityCatalog } from '../../core/activity-catalog';
import { formatDiagnostics, PipelineError, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics';
import { loadPathProblems } from '../../activities/load';
import { buildPlan, readPipelineRef, validatePipelineText } from '../../compiler/load-pipeline';
import { loadConfig, type PipewrightConfig } from '../../worker/config';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check pipeline files and report every problem as file:line:col')
    .argument('<files...>', 'pipeline files (or names in the pipelines folder)')
    .option('--json', 'print one JSON line per file: {file, valid, steps} or {file, valid, diagnostics}')
    .action((files: string[], options: { json?: boolean }) => {
      const config = loadConfig();
      const catalog = createCatalog();
      let invalid = 0;
      for (const ref of files) {
        const outcome = validateOne(ref, catalog, config);
        if (!outcome.valid) invalid++;
        if (options.json) process.stdout.write(`${JSON.stringify(jsonLine(outcome))}\n`);
        else if (outcome.valid) process.stdout.write(`✔ ${outcome.file}: valid (${outcome.steps} steps)\n`);
        else {
          const count = outcome.diagnostics.length;
          process.stderr.write(`${outcome.rendered}\n✘ ${outcome.file}: ${count} problem${count === 1 ? '' : 's'}\n`);
        }
      }
      if (invalid > 0) process.exitCode = 2;
    });
}

type Outcome =
  | { readonly file: string; readonly valid: true; readonly steps: number }
  | {
      readonly file: string;
      readonly valid: false;
      readonly diagnostics: readonly Diagnostic[];
      readonly rendered: string;
    };

/** What `--json` prints of an outcome: everything but the rendered text, which is for terminals. */
function jsonLine(outcome: Outcome): object {
  if (outcome.valid) return outcome;
  const { file, valid, diagnostics } = outcome;
  return { file, valid, diagnostics };
}

function validateOne(ref: string, catalog: ActivityCatalog, config: PipewrightConfig): Outcome {
  try {
    const input = readPipelineRef(ref, config.pipelinesDir);
    const result = validatePipelineText(input, catalog);
    if (!result.ok) {
      const rendered = formatDiagnostics(result.diagnostics, result.text);
      return { file: input.file, valid: false, diagnostics: sortDiagnostics(result.diagnostics), rendered };
    }
    // Files no run could read are refused here too, as the worker would with these data roots;
    // a file missing on this machine may be there on the worker's.
    buildPlan(ref, catalog, {
      pipelinesDir: config.pipelinesDir,
      checkPlan: (plan) => loadPathProblems(plan, config.dataRoots, { missing: false }),
    });
    return { file: input.file, valid: true, steps: result.pipeline.spec.steps.length };
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    return { file: ref, valid: false, diagnostics: error.diagnostics, rendered: error.rendered };
  }
}
