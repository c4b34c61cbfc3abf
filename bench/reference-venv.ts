import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NATIVE_BACKENDS } from '../ml/backend/provision-tfjs-node';
import { PROJECT_ROOT } from '../worker/config';

const ready = new Map<string, string>();

/** Python of the venv .tools/<name>, created once and given `requirements` (pip arguments) once per process. */
function venvPython(name: string, requirements: readonly string[]): string {
  const known = ready.get(name);
  if (known) return known;
  const venv = join(PROJECT_ROOT, '.tools', name);
  const python = join(venv, 'bin', 'python');
  const run = (cmd: string, args: string[]) => {
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  if (!existsSync(python)) run('python3', ['-m', 'venv', venv]);
  // `python -m pip` rather than bin/pip, whose first line names the folder the venv was made in.
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...requirements]);
  ready.set(name, python);
  return python;
}

/** Python of the benchmark venv (.tools/bench-venv) with the reference implementations of bench/reference/requirements.txt. */
export function referencePython(): string {
  return venvPython('bench-venv', ['-r', join(PROJECT_ROOT, 'bench', 'reference', 'requirements.txt')]);
}

/**
 * Python of .tools/profile-venv with TensorFlow's own Python package, of the version whose C
 * library the native backend runs: it loads our graphs into the same TensorFlow to trace their ops.
 * Apart from the reference venv, whose pins TensorFlow's dependencies could clash with.
 */
export function tensorflowPython(): string {
  const { name, version } = NATIVE_BACKENDS.cpu.wheel;
  return venvPython('profile-venv', [`${name}==${version}`]);
}
