import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../worker/config';

/** Python of the benchmark venv (.tools/bench-venv), created and filled from bench/reference/requirements.txt. */
export function referencePython(): string {
  const venv = join(PROJECT_ROOT, '.tools', 'bench-venv');
  const python = join(venv, 'bin', 'python');
  const run = (cmd: string, args: string[]) => {
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  if (!existsSync(python)) run('python3', ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    join(PROJECT_ROOT, 'bench', 'reference', 'requirements.txt'),
  ]);
  return python;
}
