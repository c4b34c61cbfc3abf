import type { Command } from 'commander';
import type { StoredArtifact } from '../../store/artifact-store';
import { collectGarbage } from '../../store/garbage-collect';
import { lineageOf, resolveArtifact, type LineageNode } from '../../store/lineage';
import { parseDuration } from '../../core/duration';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { UserError } from '../user-error';

function describe(a: StoredArtifact): string {
  const made = a.provenance.step
    ? `${a.provenance.step} (${a.provenance.activity}) in ${a.provenance.workflowId}`
    : 'unknown producer';
  const size = a.rows !== undefined ? `${a.rows} rows, ${a.bytes} bytes` : `${a.bytes} bytes`;
  return `${a.kind} ${a.sha256.slice(0, 12)}  ${made}  ${size}`;
}

/** The lineage tree as indented lines, sources last on each branch. */
export function renderLineage(node: LineageNode, prefix = '', last = true, root = true): string[] {
  const branch = root ? '' : last ? '└─ ' : '├─ ';
  const line = node.artifact
    ? `${describe(node.artifact)}${node.repeated ? '  (shown above)' : ''}`
    : `${node.sha256.slice(0, 12)} (metadata gone)`;
  const lines = [`${prefix}${branch}${line}`];
  const childPrefix = root ? '' : prefix + (last ? '   ' : '│  ');
  const sources = node.repeated ? [] : (node.artifact?.provenance.sources ?? []);
  const children = node.parents.length + sources.length;
  node.parents.forEach((parent, i) => lines.push(...renderLineage(parent, childPrefix, i === children - 1, false)));
  sources.forEach((source, i) =>
    lines.push(`${childPrefix}${node.parents.length + i === children - 1 ? '└─ ' : '├─ '}source ${source}`),
  );
  return lines;
}

export function registerArtifacts(program: Command): void {
  program
    .command('artifacts')
    .description('List stored artifacts with what produced them')
    .option('--kind <kind>', 'only this kind (dataset, tokenizer, checkpoint, model, report, run-report)')
    .option('--json', 'print JSON lines')
    .action(async (options: { kind?: string; json?: boolean }) => {
      const { store } = openLocalState(loadConfig());
      const artifacts = (await store.list()).filter((a) => options.kind === undefined || a.kind === options.kind);
      if (artifacts.length === 0) process.stdout.write('no artifacts stored\n');
      for (const a of artifacts)
        process.stdout.write(options.json ? `${JSON.stringify(a)}\n` : `${a.createdAt}  ${describe(a)}\n`);
    });

  program
    .command('lineage')
    .description('Show how an artifact was made, back to its source files')
    .argument('<digest>', 'the artifact’s sha256, or enough of its start to be unique')
    .action(async (prefix: string) => {
      const { store } = openLocalState(loadConfig());
      let artifact: StoredArtifact;
      try {
        artifact = resolveArtifact(await store.list(), prefix);
      } catch (error) {
        throw new UserError((error as Error).message, 2);
      }
      process.stdout.write(renderLineage(await lineageOf(store, artifact.sha256)).join('\n') + '\n');
    });

  program
    .command('gc')
    .description('Remove artifacts that no run record or cache entry references')
    .option('--dry-run', 'only report what would be removed')
    .option('--older-than <duration>', 'first forget run records and cache entries older than this (e.g. 30d)')
    .action(async (options: { dryRun?: boolean; olderThan?: string }) => {
      const { store, runs, cache, journal } = openLocalState(loadConfig());
      let olderThanMs: number | undefined;
      if (options.olderThan !== undefined) {
        try {
          olderThanMs = parseDuration(options.olderThan);
        } catch {
          throw new UserError(`--older-than must be a duration such as 12h or 30d, not "${options.olderThan}"`, 2);
        }
      }
      const result = await collectGarbage(store, runs, cache, {
        dryRun: options.dryRun ?? false,
        ...(olderThanMs !== undefined && { olderThanMs }),
        // Mid-epoch checkpoints of trainings in flight are their resume points.
        pinned: (await journal.all()).map((ref) => ref.sha256),
      });
      const verb = options.dryRun ? 'would remove' : 'removed';
      for (const a of result.removed) process.stdout.write(`${verb} ${describe(a)}\n`);
      process.stdout.write(
        `${verb} ${result.removed.length} artifacts (${result.bytesFreed} bytes), kept ${result.kept}; ` +
          `forgot ${result.forgottenRecords} run records and ${result.forgottenCacheEntries} cache entries\n`,
      );
    });
}
