import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCatalog } from '../../spec/activity-catalog';
import { validatePipelineText } from '../../spec/load-pipeline';
import { SOURCE_LIMITS } from '../../spec/source-limits';

function problems(content: string | Uint8Array): string[] {
  const result = validatePipelineText({ file: 'hostile.yaml', content }, createCatalog());
  assert.equal(result.ok, false, 'hostile input must be rejected');
  return result.ok ? [] : result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
}

describe('hostile pipeline files get a clear error, not a crash or a hang', () => {
  test('an alias bomb (billion laughs) is stopped at the alias limit', () => {
    let text = 'name: bomb\nsteps: []\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++)
      text += `x${i}: &x${i} [${Array(9)
        .fill(`*x${i - 1}`)
        .join(', ')}]\n`;
    const started = Date.now();
    assert.deepEqual(problems(text), [
      `4:10: too many alias expansions (more than ${SOURCE_LIMITS.maxAliasCount}): expand the aliases by hand`,
    ]);
    assert.ok(Date.now() - started < 2000);
  });

  test('a multi-megabyte file is refused by size before parsing', () => {
    const text = 'name: big\nsteps:\n' + '  # padding comment line\n'.repeat(200_000);
    assert.deepEqual(problems(text), [
      `1:1: file is ${Buffer.byteLength(text)} bytes; pipeline files are limited to ${SOURCE_LIMITS.maxBytes} bytes`,
    ]);
  });

  test('binary content is named as such with its position', () => {
    const bytes = Buffer.concat([
      Buffer.from('name: x\nsteps:\n  - id: a'),
      Buffer.from([0x00, 0x01, 0x02]),
      Buffer.from('\n'),
    ]);
    assert.deepEqual(problems(bytes), ['3:10: binary content (a NUL byte): a pipeline must be a UTF-8 YAML text file']);
  });

  test('non-UTF-8 text points at the first bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\nsteps: []\n')]);
    assert.deepEqual(problems(bytes), ['1:10: invalid UTF-8 (byte 0xe9): save the file as UTF-8']);
  });

  test('deeply nested flow collections are refused before the parser recurses', () => {
    const depth = 100_000;
    const text = `name: deep\nsteps: []\nx: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    assert.deepEqual(problems(text), [
      `3:${4 + SOURCE_LIMITS.maxDepth}: nesting deeper than ${SOURCE_LIMITS.maxDepth} levels`,
    ]);
  });

  test('deeply nested block mappings are refused too', () => {
    let text = 'name: deep\nsteps: []\nx:\n';
    for (let i = 1; i <= 100; i++) text += `${'  '.repeat(i)}k:\n`;
    const [problem] = problems(text);
    assert.match(problem!, new RegExp(`nesting deeper than ${SOURCE_LIMITS.maxDepth} levels`));
  });

  test('a document that is not a mapping says what a pipeline must be', () => {
    assert.deepEqual(problems('- just\n- a list\n'), ['1:1: must be a mapping, not a list']);
    assert.deepEqual(problems(''), ['1:1: must be a mapping, not empty']);
  });
});
