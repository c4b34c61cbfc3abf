import type { Command } from 'commander';
import { createCatalog } from '../../core/activity-catalog';
import { formatDiagnostics } from '../../compiler/diagnostics';
import { toMermaid } from '../../compiler/graph';
import { readPipelineRef, validatePipelineText } from '../../compiler/load-pipeline';
import { loadConfig } from '../../worker/config';
import { UserError } from '../user-error';

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('Print the pipeline DAG as a Mermaid flowchart')
    .argument('<pipeline>', 'pipeline file, or name of a pipeline in the pipelines folder')
    .action((ref: string) => {
      const input = readPipelineRef(ref, loadConfig().pipelinesDir);
      const result = validatePipelineText(input, createCatalog());
      if (!result.ok) throw new UserError(formatDiagnostics(result.diagnostics, result.text), 2);
      process.stdout.write(toMermaid(result.pipeline));
    });
}
