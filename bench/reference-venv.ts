import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../worker/config';

let ready: string | undefined;

/** Python of the benchmark venv (.tools/bench-venv), created and filled from bench/reference/requirements.txt once per process. */
export function referencePython(): string {
  if (ready) return ready;
  const venv = join(PROJECT_ROOT, '.tools', 'bench-venv');
  const python = join(venv, 'bin', 'python');
  const run = (cmd: string, args: string[]) => {
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  if (!existsSync(python)) run('python3', ['-m', 'venv', venv]);
  // `python -m pip` rather than bin/pip, whose first line names the folder the venv was made in.
  run(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    join(PROJECT_ROOT, 'bench', 'reference', 'requirements.txt'),
  ]);
  ready = python;
  return python;
}
