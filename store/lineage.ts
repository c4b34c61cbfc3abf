import type { ArtifactStore, StoredArtifact } from './artifact-store';

/** An artifact with the artifacts it was made from, back to source files. */
export interface LineageNode {
  readonly sha256: string;
  readonly artifact?: StoredArtifact;
  readonly parents: readonly LineageNode[];
  readonly repeated?: true;
}

/** Finds the one stored artifact whose digest starts with `prefix`. */
export function resolveArtifact(artifacts: readonly StoredArtifact[], prefix: string): StoredArtifact {
  const matches = artifacts.filter((a) => a.sha256.startsWith(prefix.toLowerCase()));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0)
    throw new Error(`no artifact's digest starts with "${prefix}"; \`pipewright artifacts\` lists them`);
  throw new Error(
    `"${prefix}" matches ${matches.length} artifacts (${matches.map((a) => a.sha256.slice(0, 12)).join(', ')}); give more of the digest`,
  );
}

/**
 * Walks provenance from an artifact to its sources, depth first. An artifact reached a second time
 * is marked `repeated` and not expanded again; a parent whose metadata is gone has no `artifact`.
 */
export async function lineageOf(store: ArtifactStore, sha256: string, seen = new Set<string>()): Promise<LineageNode> {
  const artifact = await store.metadata(sha256);
  if (seen.has(sha256)) return { sha256, ...(artifact && { artifact }), parents: [], repeated: true };
  seen.add(sha256);
  if (!artifact) return { sha256, parents: [] };
  const parents: LineageNode[] = [];
  for (const parent of artifact.provenance.parents ?? []) parents.push(await lineageOf(store, parent, seen));
  return { sha256, artifact, parents };
}
