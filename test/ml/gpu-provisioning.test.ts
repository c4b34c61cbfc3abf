import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import AdmZip from 'adm-zip';
import { cudaRequirements, NATIVE_BACKENDS } from '../../ml/backend/provision-tfjs-node';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-gpu-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface PipReport {
  readonly install: readonly {
    readonly metadata: { readonly name: string; readonly version: string; readonly requires_dist?: readonly string[] };
    readonly download_info: { readonly url: string };
  }[];
}

/** What pip would install for `requirements`, resolved from PyPI's metadata alone (nothing is downloaded). */
function resolve(requirements: readonly string[], extra: readonly string[] = []): PipReport {
  const report = join(dir, 'report.json');
  execFileSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--dry-run',
      '--ignore-installed',
      '--disable-pip-version-check',
      '-q',
      '--report',
      report,
      ...extra,
      ...requirements,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 },
  );
  return JSON.parse(readFileSync(report, 'utf8')) as PipReport;
}

test("the GPU wheel's CUDA wheels are read from its METADATA, and pip resolves them for this platform", () => {
  const { name, version } = NATIVE_BACKENDS.gpu.wheel;
  // The GPU wheel's own Requires-Dist lines, as PyPI serves its METADATA.
  const [tensorflow] = resolve([`${name}==${version}`], ['--no-deps']).install;
  assert.equal(tensorflow?.metadata.version, version);
  const requiresDist = tensorflow.metadata.requires_dist ?? [];
  const wheel = join(dir, `${name}-${version}-test.whl`);
  const zip = new AdmZip();
  const metadata = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`];
  zip.addFile(
    `${name}-${version}.dist-info/METADATA`,
    Buffer.from([...metadata, ...requiresDist.map((r) => `Requires-Dist: ${r}`)].join('\n')),
  );
  zip.writeZip(wheel);

  const requirements = cudaRequirements(wheel);
  assert.deepEqual(
    requirements,
    requiresDist.filter((r) => r.includes('extra == "and-cuda"')).map((r) => r.split(';')[0]!.trim()),
  );
  assert.ok(requirements.length >= 10, requirements.join(' '));
  assert.ok(
    requirements.every((r) => r.startsWith('nvidia-')),
    requirements.join(' '),
  );
  assert.ok(!requirements.some((r) => r.startsWith('numpy')), 'only the and-cuda extra');

  // Each resolves to a Linux x86-64 wheel: what `pipewright setup --gpu` installs beside libtensorflow.
  const cuda = resolve(requirements).install;
  for (const requirement of requirements) {
    const wanted = requirement.split(/[<>=!~ ]/)[0]!;
    const found = cuda.find((p) => p.metadata.name.toLowerCase() === wanted);
    assert.ok(found, `${wanted} resolves`);
    assert.match(found.download_info.url, /-manylinux[^/]*x86_64\.whl$/, found.download_info.url);
  }
});
