import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { failureClass } from '../core/failures';

/** A source path that is missing or lies outside the folders a pipeline may read. */
export class DataPathError extends failureClass('DataPathError') {
  constructor(
    message: string,
    /** `outside`: the file exists but no pipeline may read it; `missing`: there is no such file. */
    readonly reason: 'outside' | 'missing',
  ) {
    super(message);
  }
}

/**
 * Resolves a `load` path against the pipeline's folder, then the data roots, and checks it stays inside an allowed root
 * (the pipeline's folder or a configured data root), following symlinks so none can escape.
 */
export function resolveDataPath(path: string, pipelineDir: string | undefined, dataRoots: readonly string[]): string {
  const roots = [
    ...new Set(
      [pipelineDir, ...dataRoots]
        .filter((r): r is string => r !== undefined && existsSync(r))
        .map((r) => realpathSync(r)),
    ),
  ];
  const bases = [pipelineDir, ...dataRoots].filter((r): r is string => r !== undefined);
  if (!isAbsolute(path) && bases.length === 0) {
    throw new DataPathError(
      `relative path "${path}" has no folder to resolve against: give an absolute path inside PIPEWRIGHT_DATA_ROOTS`,
      'missing',
    );
  }
  // A relative path is looked up in the pipeline's folder first, then in each data root.
  const tried = isAbsolute(path) ? [path] : bases.map((base) => resolve(base, path));
  const absolute = tried.find((candidate) => existsSync(candidate));
  if (absolute === undefined)
    throw new DataPathError(`source file not found: "${path}" (looked for ${tried.join(', ')})`, 'missing');
  const real = realpathSync(absolute);
  const inside = roots.some((root) => {
    const rel = relative(root, real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
  });
  if (!inside) {
    throw new DataPathError(
      `path "${path}" resolves to ${real}, outside the folders pipelines may read (${roots.join(', ') || 'none'}); ` +
        'add its folder to PIPEWRIGHT_DATA_ROOTS (separated by ":") on the worker to allow it',
      'outside',
    );
  }
  return real;
}
