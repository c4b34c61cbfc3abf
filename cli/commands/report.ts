import type { Command } from 'commander';
import { isArtifactRef } from '../../store/step-cache';
import { resolveArtifact } from '../../store/lineage';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { readMetricsReport } from '../../ml/metrics/metrics-report';
import { renderMetricsReport } from '../metrics-table';
import { UserError } from '../user-error';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Print the validation metrics of a run (every step that produced a report) or of one report artifact')
    .argument('<target>', 'a run’s workflow id, or a report artifact’s sha256 (or a unique start of it)')
    .option('--json', 'print the reports as JSON')
    .action(async (target: string, options: { json?: boolean }) => {
      const { store, runs } = openLocalState(loadConfig());
      const found: { title: string; sha256: string }[] = [];
      for (const { record } of await runs.all()) {
        // Steps with a dot in their id are a train step's per-epoch work (`train.validate`), not the pipeline's.
        if (record.workflowId !== target || record.step.includes('.')) continue;
        for (const [name, value] of Object.entries(record.outputs))
          if (isArtifactRef(value) && value.kind === 'report')
            found.push({ title: `${record.step} (${record.activity}) · ${name}`, sha256: value.sha256 });
      }
      if (found.length === 0) {
        try {
          const artifact = resolveArtifact(await store.list(), target);
          if (artifact.kind !== 'report')
            throw new Error(`artifact ${artifact.sha256.slice(0, 12)} is a ${artifact.kind}, not a report`);
          found.push({ title: `report ${artifact.sha256.slice(0, 12)}`, sha256: artifact.sha256 });
        } catch (error) {
          throw new UserError(`no run with id "${target}" has reports here, and ${(error as Error).message}`, 2);
        }
      }
      for (const { title, sha256 } of found.sort((a, b) => a.title.localeCompare(b.title))) {
        const report = await readMetricsReport(store, { sha256 });
        if (options.json) process.stdout.write(`${JSON.stringify({ title, ...report })}\n`);
        else process.stdout.write([`== ${title}`, ...renderMetricsReport(report), ''].join('\n') + '\n');
      }
    });
}
