import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import AdmZip from 'adm-zip';
import { pipWheel } from '../pip-wheel';

/**
 * The native backends: the npm package, and the TensorFlow wheel from PyPI whose C library its
 * addon is built against (the same C API the package's own download carries). The GPU wheel's
 * libraries find CUDA through their RUNPATH, `$ORIGIN/../nvidia/<library>/lib`: the CUDA wheels
 * pip brings, installed beside them.
 */
export const NATIVE_BACKENDS = {
  cpu: { package: '@tensorflow/tfjs-node', wheel: { name: 'tensorflow-cpu', version: '2.21.0' }, size: '270 MB' },
  gpu: { package: '@tensorflow/tfjs-node-gpu', wheel: { name: 'tensorflow', version: '2.21.0' }, size: '570 MB' },
} as const;
export type NativeBackend = keyof typeof NATIVE_BACKENDS;

/** Provisioning could not produce a working native backend; the message says what failed. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

export interface ProvisionOptions {
  /** Where downloaded wheels are kept between runs. */
  readonly cacheDir: string;
  readonly log: (line: string) => void;
  /** `gpu`: tfjs-node-gpu, installed into `projectDir` if missing, with the CUDA libraries. Default `cpu`. */
  readonly variant?: NativeBackend;
  /** The project whose node_modules gets tfjs-node-gpu. */
  readonly projectDir?: string;
}

export interface ProvisionResult {
  readonly packageDir: string;
  readonly how: 'already built' | 'package installer' | 'built from the TensorFlow wheel';
  readonly check: string;
}

/**
 * Makes a native backend usable: keeps a working addon; else (CPU) tries the package's own
 * installer, which downloads libtensorflow; else builds the addon with node-gyp against the C
 * library inside the TensorFlow wheel from PyPI — for the GPU, with the CUDA wheels that wheel
 * names installed beside it. Every route ends with a real tensor op.
 */
export function provisionTfjsNode(options: ProvisionOptions): ProvisionResult {
  const variant = options.variant ?? 'cpu';
  const { package: name, wheel: spec, size } = NATIVE_BACKENDS[variant];
  const packageDir = packageDirOf(name, variant === 'gpu' ? options.projectDir : undefined, options.log);
  const first = verify(packageDir);
  if (first.ok) return { packageDir, how: 'already built', check: first.output };
  if (variant === 'cpu') {
    options.log(`${name} has no working addon yet; trying its own installer`);
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
      `its installer could not fetch libtensorflow; building the addon against the ${spec.name} wheel instead`,
    );
  } else {
    options.log(
      `building the ${name} addon against the ${spec.name} wheel (its installer's download is not reachable)`,
    );
  }
  const wheel = pipWheel(spec, options.cacheDir, `building the native backend, about ${size}`, options.log);
  stageLibtensorflow(wheel, packageDir, options.log);
  if (variant === 'gpu') installCudaLibraries(cudaRequirements(wheel), join(packageDir, 'deps'), options.log);
  buildAddon(packageDir, options.log);
  const check = verify(packageDir);
  if (!check.ok) throw new ProvisionError(`the addon was built but does not work:\n${check.output}`);
  return { packageDir, how: 'built from the TensorFlow wheel', check: check.output };
}

/** Where an installed package lives; with `installInto`, npm installs it there first if it is missing. */
function packageDirOf(name: string, installInto: string | undefined, log: (line: string) => void): string {
  const find = () => {
    try {
      return dirname(require.resolve(`${name}/package.json`, installInto ? { paths: [installInto] } : undefined));
    } catch {
      return undefined;
    }
  };
  const found = find();
  if (found) return found;
  if (!installInto)
    throw new ProvisionError(`${name} is not installed: run \`npm install\` (it is an optional dependency)`);
  // The same version as TensorFlow.js itself; its install script would download from outside npm and PyPI.
  const version = (
    createRequire(join(installInto, 'package.json'))('@tensorflow/tfjs/package.json') as { version: string }
  ).version;
  log(`installing ${name}@${version} from npm (not saved to package.json)`);
  const npm = spawnSync(
    'npm',
    ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${name}@${version}`],
    { cwd: installInto, encoding: 'utf8' },
  );
  const installed = npm.status === 0 ? find() : undefined;
  if (!installed)
    throw new ProvisionError(
      `npm install ${name}@${version} failed:\n${(npm.stdout + npm.stderr).trim().split('\n').slice(-8).join('\n')}`,
    );
  return installed;
}

/**
 * The CUDA wheels a TensorFlow wheel asks for under its `and-cuda` extra, as pip requirements,
 * read from the wheel's METADATA.
 */
export function cudaRequirements(wheel: string): string[] {
  const metadata = new AdmZip(wheel).getEntries().find((entry) => /^[^/]+\.dist-info\/METADATA$/.test(entry.entryName));
  if (!metadata) throw new ProvisionError(`${wheel} has no METADATA`);
  return metadata
    .getData()
    .toString('utf8')
    .split('\n')
    .map((line) => /^Requires-Dist: ([^;]+);\s*extra == "and-cuda"\s*$/.exec(line.trim())?.[1]?.trim())
    .filter((requirement): requirement is string => requirement !== undefined);
}

/**
 * Installs the CUDA wheels with pip into `depsDir` (as `depsDir/nvidia/<library>/lib`), where the
 * GPU build's RUNPATH looks for them; skipped when a previous run installed the same list.
 */
function installCudaLibraries(requirements: readonly string[], depsDir: string, log: (line: string) => void): void {
  if (requirements.length === 0) throw new ProvisionError('the TensorFlow wheel names no CUDA wheels (extra and-cuda)');
  const marker = join(depsDir, 'nvidia', 'pipewright-requirements.txt');
  const wanted = requirements.join('\n') + '\n';
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;
  log(`installing the CUDA libraries with pip (${requirements.length} wheels, several GB): ${requirements.join(' ')}`);
  const pip = spawnSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '-q',
      '--no-compile',
      '--upgrade',
      '--target',
      depsDir,
      ...requirements,
    ],
    { encoding: 'utf8' },
  );
  if (pip.status !== 0)
    throw new ProvisionError(
      `pip install of the CUDA wheels failed:\n${(pip.stdout + pip.stderr).trim().split('\n').slice(-8).join('\n')}`,
    );
  writeFileSync(marker, wanted);
}

/** Loads the addon in a fresh process and runs an op: the only proof that linking and loading work. */
export function verify(packageDir: string): { ok: boolean; output: string } {
  const script = `
    const tf = require(${JSON.stringify(packageDir)});
    const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync();
    if (sum[0] !== 4 || sum[1] !== 6) throw new Error('wrong result ' + Array.from(sum));
    const device = tf.backend().isUsingGpuDevice ? ', on a CUDA GPU' : '';
    process.stdout.write('tfjs-node ' + tf.version.tfjs + ' on TensorFlow ' + tf.backend().binding.TF_Version + ', backend ' + tf.getBackend() + device);
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
  log(`extracting libtensorflow and the C API headers from ${wheel}`);
  const lib = join(packageDir, 'deps', 'lib');
  const include = join(packageDir, 'deps', 'include');
  // deps/nvidia (the CUDA libraries, GBs) stays: only the TensorFlow library and headers are replaced.
  for (const dir of [lib, include]) rmSync(dir, { recursive: true, force: true });
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
  log(`building the ${basename(packageDir)} addon (N-API ${napi}) with node-gyp`);
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
