import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createCatalog } from '../../core/activity-catalog';
import { buildPlan } from '../../compiler/load-pipeline';
import { loadConfig, workflowUrl } from '../../worker/config';
import { PIPELINE_SEARCH_ATTRIBUTE } from '../../worker/search-attribute';
import type { PipelineInput } from '../../workflows/pipeline';
import { connectClient } from '../client';
import { GRPC_CODES } from '../grpc-codes';
import { printMetrics, type ReportDetail } from '../metrics-table';
import { collectSet } from '../parse-set';
import { ProgressPrinter, table } from '../render-progress';
import { failureAdvice, watchRun, type ConnectionNotice, type RunOutcome } from '../watch-run';

interface RunOptions {
  set: Record<string, string>;
  cache: boolean;
  json?: boolean;
  detach?: boolean;
  id?: string;
  name?: string;
  report: ReportDetail;
}

/** Exit code of a run's outcome: 0 success, 1 failure, 3 cancelled or ended otherwise. */
export function exitCodeFor(outcome: RunOutcome): number {
  return outcome.status === 'succeeded' ? 0 : outcome.status === 'failed' ? 1 : 3;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Validate a pipeline, start it on Temporal and follow its progress')
    .argument('<pipeline>', 'pipeline file, or name of a pipeline in the pipelines folder')
    .option('--set <key=value>', 'set a param (repeatable)', collectSet, {})
    .option('--no-cache', 'run every step even if an identical earlier run is cached')
    .option('--json', 'print progress as JSON lines')
    .option('--detach', 'start the run and return without following it')
    .option('--id <workflowId>', 'workflow id to use (default: <pipeline>-<timestamp>)')
    .option('--name <runName>', 'a label for this run, shown in the UI and listings')
    .addOption(
      new Option('--report <detail>', 'what of each validation report to print at the end: the summary or every table')
        .choices(['summary', 'full'])
        .default('summary'),
    )
    .action(async (ref: string, options: RunOptions) => {
      const config = loadConfig();
      // A file path goes to the worker as an absolute path, so it does not depend on the worker's folder.
      const pipelineRef = existsSync(ref) ? resolve(ref) : ref;
      const plan = buildPlan(pipelineRef, createCatalog(), {
        pipelinesDir: config.pipelinesDir,
        params: options.set,
        noCache: !options.cache,
      });
      const client = await connectClient(config);
      const workflowId = options.id ?? `${plan.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const input: PipelineInput = {
        pipeline: pipelineRef,
        params: options.set,
        ...(options.name !== undefined && { runName: options.name }),
        ...(!options.cache && { noCache: true }),
      };
      const start = (searchable: boolean) =>
        client.workflow.start('pipeline', {
          taskQueue: config.taskQueue,
          workflowId,
          args: [input],
          memo: { pipeline: plan.name, ...(options.name !== undefined && { runName: options.name }) },
          staticSummary: `Pipewright pipeline ${plan.name}${options.name !== undefined ? ` · ${options.name}` : ''}`,
          ...(searchable && { typedSearchAttributes: [{ key: PIPELINE_SEARCH_ATTRIBUTE, value: plan.name }] }),
        });
      const handle = await start(true).catch((error: unknown) => {
        if (!unknownSearchAttribute(error)) throw error;
        process.stderr.write(
          `note: this Temporal server has no ${PIPELINE_SEARCH_ATTRIBUTE.name} search attribute, so runs cannot be filtered by pipeline; ` +
            `add it with: temporal operator search-attribute create --name ${PIPELINE_SEARCH_ATTRIBUTE.name} --type Keyword\n`,
        );
        return start(false);
      });
      const url = workflowUrl(config, workflowId);
      if (options.json)
        process.stdout.write(
          JSON.stringify({ event: 'started', workflowId, runId: handle.firstExecutionRunId, url }) + '\n',
        );
      else process.stdout.write(`Started ${plan.name} as ${workflowId}\n  ${url}\n`);
      if (options.detach) return;
      const notice: ConnectionNotice = (state) =>
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ event: 'connection', state })}\n`
            : state === 'lost'
              ? `Lost the Temporal server at ${config.temporalAddress}; the run goes on there. Following it again once the server answers…\n`
              : `The Temporal server answers again; following the run.\n`,
        );
      const outcome = await watchRun(handle, ProgressPrinter.for(process.stdout, options.json ?? false), 500, notice);
      if (options.json)
        process.stdout.write(
          JSON.stringify({
            event: 'finished',
            status: outcome.status,
            ...(outcome.error && { error: outcome.error }),
            ...(outcome.failure && { failure: outcome.failure }),
          }) + '\n',
        );
      else {
        // A terminal shows the redrawn step table; a log gets it once more, one line per step.
        if (!process.stdout.isTTY && outcome.progress)
          process.stdout.write(['', ...table(outcome.progress, Date.now()), ''].join('\n'));
        process.stdout.write(
          outcome.status === 'succeeded'
            ? `Run ${workflowId} succeeded.\n`
            : `Run ${workflowId} ${outcome.status}: ${outcome.error ?? ''}\n${outcome.failure ? `${failureAdvice(outcome.failure)}\n` : ''}`,
        );
        await printMetrics(config, outcome, workflowId, options.report);
        for (const line of deployDecisions(outcome)) process.stdout.write(`${line}\n`);
      }
      process.exitCode = exitCodeFor(outcome);
    });
}

/** One line per deploy step that ran: its decision. */
function deployDecisions(outcome: RunOutcome): string[] {
  return (outcome.progress?.steps ?? [])
    .filter((s) => s.uses === 'deploy' && typeof s.outputs?.decision === 'string')
    .map((s) => `Deploy ${s.id}: ${String(s.outputs!.decision)}`);
}

/** The server refused a start because it does not know the search attribute (INVALID_ARGUMENT, "no mapping defined"). */
function unknownSearchAttribute(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : undefined;
  return (
    isGrpcServiceError(cause) &&
    Number(cause.code) === GRPC_CODES.INVALID_ARGUMENT &&
    cause.details.includes(`search attribute ${PIPELINE_SEARCH_ATTRIBUTE.name}`)
  );
}
