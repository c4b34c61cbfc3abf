import type { Command } from 'commander';
import { loadConfig } from '../../worker/config';
import { PIPELINE_SEARCH_ATTRIBUTE } from '../../worker/search-attribute';
import { connectClient } from '../client';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('List recent pipeline runs')
    .option('--limit <n>', 'how many runs to show', (v) => Number.parseInt(v, 10), 20)
    .option(
      '--pipeline <name>',
      `only runs of this pipeline (by the ${PIPELINE_SEARCH_ATTRIBUTE.name} search attribute)`,
    )
    .option('--json', 'print as JSON lines')
    .action(async (options: { limit: number; pipeline?: string; json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      const rows: string[][] = [];
      const query =
        options.pipeline === undefined
          ? "WorkflowType = 'pipeline'"
          : `WorkflowType = 'pipeline' AND ${PIPELINE_SEARCH_ATTRIBUTE.name} = ${JSON.stringify(options.pipeline)}`;
      for await (const run of client.workflow.list({ query })) {
        const pipeline = typeof run.memo?.pipeline === 'string' ? run.memo.pipeline : '-';
        if (options.json) {
          process.stdout.write(
            JSON.stringify({
              workflowId: run.workflowId,
              runId: run.runId,
              status: run.status.name,
              pipeline,
              startTime: run.startTime,
            }) + '\n',
          );
        }
        rows.push([run.workflowId, run.status.name, pipeline, run.startTime.toISOString()]);
        if (rows.length >= options.limit) break;
      }
      if (options.json) return;
      if (rows.length === 0) {
        process.stdout.write('no pipeline runs yet\n');
        return;
      }
      const header = ['WORKFLOW ID', 'STATUS', 'PIPELINE', 'STARTED'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const row of [header, ...rows])
        process.stdout.write(
          row
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd() + '\n',
        );
    });
}
