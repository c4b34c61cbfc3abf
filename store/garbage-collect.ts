import type { FileArtifactStore, StoredArtifact } from './artifact-store';
import { referencedDigests, type RunRecords } from './run-records';
import type { StepCache } from './step-cache';

export interface CollectOptions {
  /** Report what would go, remove nothing. */
  readonly dryRun: boolean;
  /** First forget run records and cache entries older than this. */
  readonly olderThanMs?: number;
  readonly nowMs?: number;
  /** Digests to keep besides what records and the cache refer to (checkpoints of running trainings). */
  readonly pinned?: readonly string[];
}

export interface CollectResult {
  readonly removed: readonly StoredArtifact[];
  readonly kept: number;
  readonly bytesFreed: number;
  readonly forgottenRecords: number;
  readonly forgottenCacheEntries: number;
}

/**
 * Removes artifacts that no run record or cache entry references, directly or as an ancestor
 * (ancestors stay so that lineage can still be walked to the sources).
 */
export async function collectGarbage(
  store: FileArtifactStore,
  runs: RunRecords,
  cache: StepCache,
  options: CollectOptions,
): Promise<CollectResult> {
  const cutoff = options.olderThanMs === undefined ? -Infinity : (options.nowMs ?? Date.now()) - options.olderThanMs;
  const roots = new Set<string>(options.pinned ?? []);
  let forgottenRecords = 0;
  let forgottenCacheEntries = 0;
  for (const { record, path, writtenMs } of await runs.all()) {
    if (writtenMs < cutoff) {
      forgottenRecords++;
      if (!options.dryRun) await runs.remove(path);
    } else {
      referencedDigests(record.outputs).forEach((d) => roots.add(d));
    }
  }
  for (const { entry, path, writtenMs } of await cache.entries()) {
    if (writtenMs < cutoff) {
      forgottenCacheEntries++;
      if (!options.dryRun) await cache.remove(path);
    } else {
      referencedDigests(entry.outputs).forEach((d) => roots.add(d));
    }
  }
  const artifacts = await store.list();
  const bySha = new Map(artifacts.map((a) => [a.sha256, a]));
  const live = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const sha = stack.pop()!;
    if (live.has(sha)) continue;
    live.add(sha);
    stack.push(...(bySha.get(sha)?.provenance.parents ?? []));
  }
  const removed = artifacts.filter((a) => !live.has(a.sha256));
  if (!options.dryRun) for (const artifact of removed) await store.remove(artifact.sha256);
  return {
    removed,
    kept: artifacts.length - removed.length,
    bytesFreed: removed.reduce((sum, a) => sum + a.bytes, 0),
    forgottenRecords,
    forgottenCacheEntries,
  };
}
