import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipWheel } from '../pip-wheel';

/** The TensorFlow wheel whose C library the addon is built against: the same C API tfjs-node's own download carries. */
export const TENSORFLOW_WHEEL = { name: 'tensorflow-cpu', version: '2.21.0' } as const;

/** Provisioning could not produce a working native backend; the message says what failed. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

export interface ProvisionOptions {
  /** Where downloaded wheels are kept between runs. */
  readonly cacheDir: string;
  readonly log: (line: string) => void;
}

export interface ProvisionResult {
  readonly packageDir: string;
  readonly how: 'already built' | 'package installer' | 'built from the TensorFlow wheel';
  readonly check: string;
}

/**
 * Makes `@tensorflow/tfjs-node` usable: keeps a working addon; else tries the package's own
 * installer (which downloads libtensorflow); else builds the addon with node-gyp against the C
 * library inside the `tensorflow-cpu` wheel from PyPI. Every route ends with a real tensor op.
 */
export function provisionTfjsNode(options: ProvisionOptions): ProvisionResult {
  const packageDir = tfjsNodeDir();
  const first = verify(packageDir);
  if (first.ok) return { packageDir, how: 'already built', check: first.output };
  options.log('@tensorflow/tfjs-node has no working addon yet; trying its own installer');
  const installer = spawnSync(process.execPath, ['scripts/install.js'], {
    cwd: packageDir,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (installer.status === 0) {
    const check = verify(packageDir);
    if (check.ok) return { packageDir, how: 'package installer', check: check.output };
  }
  options.log(
    'its installer could not fetch libtensorflow; building the addon against the tensorflow-cpu wheel instead',
  );
  const wheel = pipWheel(TENSORFLOW_WHEEL, options.cacheDir, 'building the native backend, about 270 MB', options.log);
  stageLibtensorflow(wheel, packageDir, options.log);
  buildAddon(packageDir, options.log);
  const check = verify(packageDir);
  if (!check.ok) throw new ProvisionError(`the addon was built but does not work:\n${check.output}`);
  return { packageDir, how: 'built from the TensorFlow wheel', check: check.output };
}

function tfjsNodeDir(): string {
  try {
    return dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    throw new ProvisionError(
      '@tensorflow/tfjs-node is not installed: run `npm install` (it is an optional dependency)',
    );
  }
}

/** Loads the addon in a fresh process and runs an op: the only proof that linking and loading work. */
export function verify(packageDir: string): { ok: boolean; output: string } {
  const script = `
    const tf = require(${JSON.stringify(packageDir)});
    const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync();
    if (sum[0] !== 4 || sum[1] !== 6) throw new Error('wrong result ' + Array.from(sum));
    process.stdout.write('tfjs-node ' + tf.version.tfjs + ' on TensorFlow ' + tf.backend().binding.TF_Version + ', backend ' + tf.getBackend());
  `;
  const result = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  if (result.status === 0) return { ok: true, output: result.stdout.trim() };
  return { ok: false, output: result.stderr.trim().split('\n').slice(-6).join('\n') };
}

/** Header folders of the wheel that the C API includes transitively. */
const HEADER_PREFIXES = ['tensorflow/c/', 'tensorflow/core/platform/', 'tensorflow/tsl/', 'tsl/', 'xla/tsl/'];

function stageLibtensorflow(wheel: string, packageDir: string, log: (line: string) => void): void {
  // adm-zip comes with tfjs-node itself; Node has no unzip of its own.
  const AdmZip = createRequire(join(packageDir, 'package.json'))('adm-zip') as new (path: string) => {
    getEntries(): { entryName: string; isDirectory: boolean; getData(): Buffer }[];
  };
  log(`extracting libtensorflow and the C API headers from ${wheel}`);
  const lib = join(packageDir, 'deps', 'lib');
  const include = join(packageDir, 'deps', 'include');
  rmSync(join(packageDir, 'deps'), { recursive: true, force: true });
  mkdirSync(lib, { recursive: true });
  for (const entry of new AdmZip(wheel).getEntries()) {
    if (entry.isDirectory) continue;
    const name = entry.entryName;
    if (name === 'tensorflow/libtensorflow_cc.so.2' || name === 'tensorflow/libtensorflow_framework.so.2') {
      writeFileSync(join(lib, name.slice('tensorflow/'.length)), entry.getData());
    } else if (name.startsWith('tensorflow/include/')) {
      const rel = name.slice('tensorflow/include/'.length);
      if (!HEADER_PREFIXES.some((prefix) => rel.startsWith(prefix))) continue;
      mkdirSync(dirname(join(include, rel)), { recursive: true });
      writeFileSync(join(include, rel), entry.getData());
    }
  }
  if (!existsSync(join(lib, 'libtensorflow_cc.so.2')))
    throw new ProvisionError(`${wheel} holds no tensorflow/libtensorflow_cc.so.2`);
  // The addon links -ltensorflow; at run time the loader looks for the library's own soname.
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
}

function buildAddon(packageDir: string, log: (line: string) => void): void {
  const nodeDir = dirname(dirname(process.execPath));
  if (!existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) {
    throw new ProvisionError(
      `Node's headers are not in ${nodeDir}/include/node; node-gyp would download them. Install Node with its headers.`,
    );
  }
  const gyp = [join(nodeDir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(
    existsSync,
  );
  if (!gyp) throw new ProvisionError(`node-gyp not found beside npm in ${nodeDir}/lib/node_modules/npm`);
  const binary = (
    JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { binary: { napi_versions: number[] } }
  ).binary;
  const napi = Math.max(...binary.napi_versions.filter((v) => v <= Number(process.versions.napi)));
  const modulePath = join(packageDir, 'lib', `napi-v${napi}`);
  log(`building the tfjs-node addon (N-API ${napi}) with node-gyp`);
  const build = spawnSync(
    process.execPath,
    [
      gyp,
      'rebuild',
      `--nodedir=${nodeDir}`,
      '--module_name=tfjs_binding',
      `--module_path=${modulePath}`,
      `--napi_build_version=${napi}`,
    ],
    { cwd: packageDir, encoding: 'utf8' },
  );
  if (build.status !== 0)
    throw new ProvisionError(
      `node-gyp failed:\n${(build.stdout + build.stderr).trim().split('\n').slice(-15).join('\n')}`,
    );
  if (!existsSync(join(modulePath, 'tfjs_binding.node'))) {
    mkdirSync(modulePath, { recursive: true });
    copyFileSync(join(packageDir, 'build', 'Release', 'tfjs_binding.node'), join(modulePath, 'tfjs_binding.node'));
  }
}
