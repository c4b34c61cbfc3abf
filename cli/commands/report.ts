import type { Command } from 'commander';
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { renderRunReportHtml } from '../../report/html-report';
import { gatherRunReport, recordedRunReport } from '../../report/run-report';
import type { FileArtifactStore } from '../../store/artifact-store';
import type { RunRecords } from '../../store/run-records';
import { isArtifactRef } from '../../store/step-cache';
import type { PipewrightConfig } from '../../worker/config';
import { connectClient } from '../client';
import { trainingHistories } from '../training-histories';
import { epochTableText } from '../../workflows/training-progress';
import { runProgress } from '../run-progress';
import { resolveArtifact } from '../../store/lineage';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { readMetricsReport } from '../../ml/metrics/metrics-report';
import { renderMetricsReport } from '../metrics-table';
import { UserError } from '../user-error';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "Print the validation metrics of a run (every step that produced a report) and its train steps' epoch tables, or one report artifact",
    )
    .argument('<target>', 'a run’s workflow id, or a report artifact’s sha256 (or a unique start of it)')
    .option('--json', 'print the reports as JSON')
    .option(
      '--html [file]',
      'write the run’s HTML report (charts, confusion matrix, mistakes, deploy decision, lineage) to a file, by default <run id>.html',
    )
    .action(async (target: string, options: { json?: boolean; html?: string | true }) => {
      const config = loadConfig();
      const { store, runs } = openLocalState(config);
      if (options.html !== undefined) {
        const file =
          typeof options.html === 'string' ? options.html : `${target.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
        const how = await writeHtmlReport(config, store, runs, target, file);
        process.stdout.write(`wrote ${file} (${((await stat(file)).size / 1024).toFixed(1)} KB, ${how})\n`);
        return;
      }
      const found: { title: string; sha256: string }[] = [];
      for (const { record } of await runs.all()) {
        // Steps with a dot in their id are a train step's per-epoch work (`train.validate`), not the pipeline's.
        if (record.workflowId !== target || record.step.includes('.')) continue;
        for (const [name, value] of Object.entries(record.outputs))
          if (isArtifactRef(value) && value.kind === 'report')
            found.push({ title: `${record.step} (${record.activity}) · ${name}`, sha256: value.sha256 });
      }
      const fromRun = found.length > 0;
      if (!fromRun) {
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
      if (!options.json && fromRun) process.stdout.write(await epochTables(config, target));
    });
}

/** The epoch table of each train step of a run, as Temporal knows them; a note instead when it cannot be asked. */
async function epochTables(config: PipewrightConfig, workflowId: string): Promise<string> {
  try {
    const handle = (await connectClient(config)).workflow.getHandle(workflowId);
    const progress = await runProgress(handle);
    const trainings = progress ? await trainingHistories(handle, progress) : [];
    return trainings.map((training) => [...epochTableText(training), ''].join('\n') + '\n').join('');
  } catch (error) {
    return `(no epoch tables: ${(error as Error).message.split('\n')[0]})\n`;
  }
}

/**
 * Writes a run's HTML report to `file`: the one written when the run ended, or for a run still
 * going (or from before reports) one made now from what Temporal and the store know.
 */
async function writeHtmlReport(
  config: PipewrightConfig,
  store: FileArtifactStore,
  runs: RunRecords,
  workflowId: string,
  file: string,
): Promise<string> {
  const recorded = await recordedRunReport(runs, workflowId);
  if (recorded) {
    await copyFile(await store.localPath(recorded), file);
    return `the report written when the run ended, artifact ${recorded.sha256.slice(0, 12)}`;
  }
  const client = await connectClient(config);
  const handle = client.workflow.getHandle(workflowId);
  const progress = await runProgress(handle).catch((error: Error) => {
    throw new UserError(`no run with id "${workflowId}": ${error.message}`, 2);
  });
  if (!progress)
    throw new UserError(`run "${workflowId}" has no report yet, and no worker answers for its progress`, 1);
  const trainings = await trainingHistories(handle, progress);
  await writeFile(file, renderRunReportHtml(await gatherRunReport(store, { workflowId, progress, trainings })));
  return `made now: the run is ${progress.status}`;
}
