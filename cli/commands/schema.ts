import type { Command } from 'commander';
import { createCatalog } from '../../core/activity-catalog';
import { buildPipelineSchema } from '../../compiler/schema';

/** The published schema text; `npm run schema` writes it to pipelines/pipeline.schema.json. */
export function publishedSchema(): string {
  return JSON.stringify(buildPipelineSchema(createCatalog()), null, 2) + '\n';
}

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema of pipeline files (for editors and other tools)')
    .action(() => {
      process.stdout.write(publishedSchema());
    });
}
