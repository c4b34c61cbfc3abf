import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { mainMetric, validatedMetrics } from '../../core/metrics';
import { RegistryError, type ModelVersion } from '../../store/model-registry';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { approveSignal } from '../../workflows/pipeline';
import { connectClient } from '../client';
import { UserError } from '../user-error';

const f4 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));

/** Runs a registry call, turning its refusals into user errors. */
async function registryCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RegistryError) throw new UserError(error.message, 2);
    throw error;
  }
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('List deployed models, or show one model’s versions (models show NAME)')
    .action(async () => {
      const { registry } = openLocalState(loadConfig());
      const names = await registry.names();
      if (names.length === 0) process.stdout.write('no models registered\n');
      for (const name of names) {
        const versions = await registry.versions(name);
        const current = await registry.current(name);
        process.stdout.write(
          `${name}  deployed: ${current ? `version ${current.version} (${mainScore(current)})` : 'none'}  versions: ${versions.length}\n`,
        );
      }
    });

  models
    .command('show')
    .description('One model’s versions: metrics, lineage, and which is deployed')
    .argument('<name>')
    .action(async (name: string) => {
      const { registry } = openLocalState(loadConfig());
      const versions = await registryCall(() => registry.versions(name));
      if (versions.length === 0)
        throw new UserError(`no model "${name}"; registered: ${(await registry.names()).join(', ') || 'none'}`, 2);
      const current = await registry.current(name);
      const promoted = new Map((await registry.history(name)).map((p) => [p.version, p.at]));
      process.stdout.write(
        `${name}: ${versions.length} versions, deployed ${current ? `version ${current.version}` : 'none'}\n`,
      );
      for (const v of versions) {
        process.stdout.write(
          `${v.version === current?.version ? '*' : ' '} v${v.version}  ${validatedMetrics(v.task)
            .filter((m) => v.metrics[m] !== undefined)
            .map((m) => `${m} ${f4(v.metrics[m])}`)
            .join('  ')}  ` +
            `checkpoint ${v.checkpoint.sha256.slice(0, 12)}  from ${v.lineage.pipeline} run ${v.lineage.workflowId}  ` +
            `created ${v.createdAt}${promoted.has(v.version) ? `  last promoted ${promoted.get(v.version)}` : ''}\n`,
        );
      }
    });

  program
    .command('rollback')
    .description('Serve an earlier version of a model again (the previous deployed one, or --to)')
    .argument('<name>')
    .option('--to <version>', 'the version to return to')
    .action(async (name: string, options: { to?: string }) => {
      const { registry } = openLocalState(loadConfig());
      const to = options.to === undefined ? undefined : Number(options.to);
      if (to !== undefined && !Number.isInteger(to))
        throw new UserError(`--to must be a version number, not "${options.to}"`, 2);
      const promotion = await registryCall(() => registry.rollback(name, to));
      process.stdout.write(
        `${name}: version ${promotion.version} deployed again (was ${promotion.from}); servers switch within seconds\n`,
      );
    });

  program
    .command('approve')
    .description('Approve (or --reject) the deploy a run is waiting on')
    .argument('<workflowId>', 'the run’s workflow id')
    .option('--reject', 'refuse the deploy')
    .option('--step <id>', 'only this deploy step (default: every deploy waiting)')
    .option('--by <name>', 'who decides', userInfo().username)
    .option('--comment <text>', 'why')
    .action(async (workflowId: string, options: { reject?: boolean; step?: string; by: string; comment?: string }) => {
      const client = await connectClient(loadConfig());
      await client.workflow.getHandle(workflowId).signal(approveSignal, {
        approved: !options.reject,
        by: options.by,
        ...(options.step !== undefined && { step: options.step }),
        ...(options.comment !== undefined && { comment: options.comment }),
      });
      process.stdout.write(`${options.reject ? 'Rejection' : 'Approval'} sent to ${workflowId}\n`);
    });
}

/** A version's score on its task's main metric, e.g. `f1_macro 0.9612`. */
function mainScore(version: ModelVersion): string {
  const metric = mainMetric(version.task);
  const value = version.metrics[metric];
  return `${metric} ${value === undefined ? 'n/a' : f4(value)}`;
}
