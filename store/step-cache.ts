import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../core/artifacts';
import type { ArtifactStore } from './artifact-store';
import { canonicalJson } from './canonical-json';
import { readJsonTree } from './json-tree';

/** What identifies a step's work: same parts, same outputs. */
export interface CacheKeyParts {
  readonly activity: string;
  readonly version: string;
  readonly params: unknown;
  readonly inputs: Readonly<Record<string, Pick<ArtifactRef, 'sha256'>>>;
}

export interface CachedOutputs {
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly summary: string;
}

/** Digest of (activity, implementation version, canonical params, input digests). */
export function cacheKey(parts: CacheKeyParts): string {
  const inputs = Object.fromEntries(Object.entries(parts.inputs).map(([name, ref]) => [name, ref.sha256]));
  return createHash('sha256')
    .update(canonicalJson({ ...parts, inputs }))
    .digest('hex');
}

/** Remembers step outputs by cache key; a hit counts only if every output artifact still verifies. */
export class StepCache {
  constructor(
    private readonly root: string,
    private readonly store: ArtifactStore,
  ) {}

  async lookup(key: string): Promise<CachedOutputs | undefined> {
    const path = this.entryPath(key);
    let entry: CachedOutputs;
    try {
      entry = JSON.parse(await readFile(path, 'utf8')) as CachedOutputs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
      throw error;
    }
    for (const value of Object.values(entry.outputs)) {
      if (isArtifactRef(value) && !(await this.store.verify(value))) {
        await rm(path, { force: true });
        return undefined;
      }
    }
    return entry;
  }

  async save(key: string, entry: CachedOutputs): Promise<void> {
    const path = this.entryPath(key);
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomUUID()}.partial`;
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, path);
  }

  /** Every cache entry, with the time it was written. */
  async entries(): Promise<{ path: string; entry: CachedOutputs; writtenMs: number }[]> {
    return (await readJsonTree<CachedOutputs>(this.root)).map(({ value, path, writtenMs }) => ({
      entry: value,
      path,
      writtenMs,
    }));
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  private entryPath(key: string): string {
    return join(this.root, key.slice(0, 2), `${key}.json`);
  }
}

/** True for values shaped like an artifact reference. */
export function isArtifactRef(value: unknown): value is ArtifactRef {
  return typeof value === 'object' && value !== null && 'sha256' in value && 'kind' in value && 'uri' in value;
}
