import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCatalog } from '../../core/activity-catalog';
import { DIAGNOSTIC_CODES, PipelineError, type DiagnosticCode } from '../../compiler/diagnostics';
import { buildPlan, validatePipelineText } from '../../compiler/load-pipeline';
import { SOURCE_LIMITS } from '../../compiler/source-limits';
import { pipewright } from '../support/run-cli';
import { FIXTURES, fixtureNames } from './corpus';

const LOAD = '    uses: load\n    with: { path: data.jsonl }\n';

/** A pipeline file for each code the invalid corpus does not produce, as `pipewright validate` reads it. */
const FILES: Partial<Record<DiagnosticCode, string | Buffer>> = {
  FILE_TOO_LARGE: `name: p\n# ${'x'.repeat(SOURCE_LIMITS.maxBytes)}\n`,
  NOT_UTF8_TEXT: Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0x0a]),
  NESTING_TOO_DEEP: `name: p\nsteps: ${'['.repeat(SOURCE_LIMITS.maxDepth + 1)}\n`,
  NUMBER_OUT_OF_RANGE: `name: p\nsteps:\n  - id: load\n    uses: load\n    with: { path: data.jsonl, max_record_bytes: 1e400 }\n`,
  TOO_MANY_ALIASES: `name: p\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nsteps: []\n`,
  RESERVED_NAME: `name: p\nsteps:\n  - id: constructor\n${LOAD}`,
  BAD_WIRING: `name: p\nsteps:\n  - id: load\n${LOAD}  - id: clean\n    uses: clean\n    inputs: { dataset: "x-\${{ steps.load.outputs.dataset }}" }\n`,
  SELF_DEPENDENCY: `name: p\nsteps:\n  - id: load\n${LOAD}    needs: [load]\n`,
  MISSING_PARAM: `name: p\nparams:\n  file: { type: string }\nsteps:\n  - id: load\n    uses: load\n    with: { path: "\${{ params.file }}" }\n`,
  DATA_PATH_REFUSED: `name: p\nsteps:\n  - id: load\n    uses: load\n    with: { path: /etc/hostname }\n`,
};

/** Codes that only `--set` (of `pipewright run`) can produce, with the params that do. */
const WITH_PARAMS: Partial<Record<DiagnosticCode, { yaml: string; set: Record<string, string> }>> = {
  UNDECLARED_PARAM: { yaml: `name: p\nsteps:\n  - id: load\n${LOAD}`, set: { epochs: '3' } },
  INVALID_AFTER_PARAMS: {
    yaml: `name: p\nparams:\n  bytes: { type: integer, default: 1000 }\nsteps:\n  - id: load\n    uses: load\n    with: { path: data.jsonl, max_record_bytes: "\${{ params.bytes }}" }\n`,
    set: { bytes: '0' },
  },
};

test('every diagnostic of the invalid corpus carries a code of the list', () => {
  const seen = new Set<DiagnosticCode>();
  for (const name of fixtureNames('invalid')) {
    const content = readFileSync(join(FIXTURES, 'invalid', name));
    const result = validatePipelineText({ file: name, content }, createCatalog());
    assert.equal(result.ok, false, name);
    if (!result.ok) for (const diagnostic of result.diagnostics) seen.add(diagnostic.code);
  }
  for (const code of seen) assert.ok(DIAGNOSTIC_CODES.includes(code), code);
  // The corpus, the files below, --set and a missing file between them produce every code.
  const elsewhere = [...Object.keys(FILES), ...Object.keys(WITH_PARAMS), 'PIPELINE_NOT_FOUND'];
  assert.deepEqual(
    DIAGNOSTIC_CODES.filter((code) => !seen.has(code) && !elsewhere.includes(code)),
    [],
  );
});

test('pipewright validate --json names each problem by its code, exiting 2; a valid file passes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-codes-'));
  try {
    const files = Object.entries(FILES).map(([code, content]) => {
      const file = join(dir, `${code.toLowerCase()}.yaml`);
      writeFileSync(file, content);
      return { code, file };
    });
    const valid = join(dir, 'valid.yaml');
    writeFileSync(valid, `name: p\nsteps:\n  - id: load\n${LOAD}`);
    const missing = join(dir, 'nowhere.yaml');
    const result = await pipewright(['validate', '--json', valid, ...files.map((f) => f.file), missing]);
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { valid: boolean; steps?: number; diagnostics?: { code: string }[] });
    assert.equal(lines.length, files.length + 2);
    assert.deepEqual(lines[0], { file: valid, valid: true, steps: 1 });
    files.forEach(({ code }, i) => {
      const line = lines[i + 1]!;
      assert.equal(line.valid, false, code);
      assert.ok(
        line.diagnostics!.some((d) => d.code === code),
        `${code}: ${JSON.stringify(line.diagnostics)}`,
      );
    });
    assert.deepEqual(
      lines.at(-1)!.diagnostics!.map((d) => d.code),
      ['PIPELINE_NOT_FOUND'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('params set at run time are refused by code before a run starts, and `run` exits 2 saying why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-codes-'));
  try {
    for (const [code, { yaml, set }] of Object.entries(WITH_PARAMS)) {
      const file = join(dir, `${code.toLowerCase()}.yaml`);
      writeFileSync(file, yaml);
      const failure = (() => {
        try {
          buildPlan(file, createCatalog(), { pipelinesDir: dir, params: set });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      assert.ok(failure instanceof PipelineError, code);
      assert.deepEqual(
        failure.diagnostics.map((d) => d.code),
        [code],
      );
      const args = Object.entries(set).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
      // No server is needed: the plan is refused before the CLI connects (nothing listens on port 1).
      const result = await pipewright(['run', file, ...args], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      assert.equal(result.code, 2, `${code}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), failure.rendered.trim());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
