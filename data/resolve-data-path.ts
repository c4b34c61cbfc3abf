import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** A source path that is missing or lies outside the folders a pipeline may read. */
export class DataPathError extends Error {
  override name = 'DataPathError';
}

/**
 * Resolves a `load` path against the pipeline's folder and checks it stays inside an allowed root
 * (the pipeline's folder or a configured data root), following symlinks so none can escape.
 */
export function resolveDataPath(path: string, pipelineDir: string | undefined, dataRoots: readonly string[]): string {
  const roots = [pipelineDir, ...dataRoots]
    .filter((r): r is string => r !== undefined && existsSync(r))
    .map((r) => realpathSync(r));
  const base = pipelineDir ?? dataRoots[0];
  if (!isAbsolute(path) && base === undefined) {
    throw new DataPathError(
      `relative path "${path}" has no folder to resolve against: give an absolute path inside PIPEWRIGHT_DATA_ROOTS`,
    );
  }
  const absolute = resolve(base ?? '/', path);
  if (!existsSync(absolute)) throw new DataPathError(`source file not found: ${absolute} (from path "${path}")`);
  const real = realpathSync(absolute);
  const inside = roots.some((root) => {
    const rel = relative(root, real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
  });
  if (!inside) {
    throw new DataPathError(
      `path "${path}" resolves to ${real}, outside the folders pipelines may read (${roots.join(', ') || 'none'}); ` +
        'add its folder to PIPEWRIGHT_DATA_ROOTS (separated by ":") on the worker to allow it',
    );
  }
  return real;
}
