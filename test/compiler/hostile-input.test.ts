import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../data/seeded-random';
import { createCatalog } from '../../core/activity-catalog';
import { ExpressionSyntaxError, parseExpression } from '../../compiler/expression-parse';
import { validatePipelineText } from '../../compiler/load-pipeline';
import { SOURCE_LIMITS } from '../../compiler/source-limits';
import { PROJECT_ROOT } from '../../worker/config';

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

  test('deep block nesting, as values or as explicit keys, is refused before the parser overflows its stack', () => {
    for (const level of ['k:', '?']) {
      let text = 'name: deep\nsteps: []\nx:\n';
      for (let i = 1; i <= 1_300; i++) text += `${' '.repeat(i)}${level}\n`;
      const [problem] = problems(text);
      assert.match(problem!, new RegExp(`^\\d+:\\d+: nesting deeper than ${SOURCE_LIMITS.maxDepth} levels$`), level);
    }
  });

  test('an apostrophe inside a plain scalar does not hide the flow nesting after it', () => {
    const depth = 2_000;
    const text = `name: deep\nsteps: []\nnote: it's here\nx: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    assert.deepEqual(problems(text), [
      `4:${4 + SOURCE_LIMITS.maxDepth}: nesting deeper than ${SOURCE_LIMITS.maxDepth} levels`,
    ]);
  });

  test('expressions nested or chained beyond the limit get a located message, not a stack overflow', () => {
    const when = (expression: string) =>
      problems(
        `name: w\nsteps:\n  - id: a\n    uses: load\n    with: { path: x.jsonl }\n    when: \${{ ${expression} }}\n`,
      );
    const cases: [string, RegExp][] = [
      [
        Array(20_000).fill('true').join(' && '),
        /^6:\d+: step "a": when: invalid expression: the expression nests more than 64 operators/,
      ],
      [
        `${'('.repeat(5_000)}true${')'.repeat(5_000)}`,
        /^6:\d+: step "a": when: invalid expression: the expression nests deeper than 64 levels/,
      ],
      [
        `${'!'.repeat(100_000)}true`,
        /^6:\d+: step "a": when: invalid expression: the expression nests deeper than 64 levels/,
      ],
    ];
    for (const [expression, expected] of cases) {
      const started = Date.now();
      const [problem] = when(expression);
      assert.match(problem!, expected);
      assert.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms`);
    }
    // Up to the limit an expression is fine.
    assert.doesNotThrow(() => parseExpression(`${'!'.repeat(32)}true && ${Array(30).fill('1 < 2').join(' && ')}`));
  });

  test('numbers that cannot be used as written are named where they are: .inf, .nan, 1e400, past 2^53', () => {
    const text =
      'name: n\nparams:\n  big: { type: integer, default: 90071992547409930 }\n  nan: { type: number, default: .nan }\n' +
      'steps:\n  - id: a\n    uses: load\n    with: { path: x.jsonl, limit: 1e400 }\n';
    assert.deepEqual(problems(text), [
      `3:34: 90071992547409930 is beyond the integers that are exact (±${Number.MAX_SAFE_INTEGER}); write a smaller number`,
      '4:33: .nan is not a finite number (it reads as NaN); write a number within range',
      '8:35: 1e400 is not a finite number (it reads as Infinity); write a number within range',
    ]);
  });

  test('__proto__, constructor and prototype are refused as step ids and param names', () => {
    const text =
      'name: p\nparams:\n  __proto__: { type: integer, default: 1 }\nsteps:\n  - id: constructor\n    uses: load\n    with: { path: x.jsonl }\n';
    const found = problems(text);
    assert.deepEqual(found, [
      '3:3: parameter name "__proto__" is reserved by JavaScript objects; choose another',
      '5:9: step id "constructor" is reserved by JavaScript objects; choose another',
    ]);
  });

  test('fuzz: random expressions parse or fail with a syntax error, never anything else', () => {
    const random = seededRandom(2026);
    const pieces = [
      '(',
      ')',
      '!',
      '-',
      '&&',
      '||',
      '==',
      '<',
      '>=',
      '.',
      'params',
      'steps',
      'a',
      '1',
      '2.5e3',
      "'s'",
      '"t',
      'true',
      'null',
      ' ',
      '${{',
      '}}',
    ];
    const deadline = Date.now() + 1_500;
    let runs = 0;
    for (; Date.now() < deadline && runs < 20_000; runs++) {
      const length = 1 + Math.floor(random() * (random() < 0.1 ? 400 : 20));
      const text = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      try {
        parseExpression(text);
      } catch (error) {
        assert.ok(error instanceof ExpressionSyntaxError, `${JSON.stringify(text)}: ${String(error)}`);
      }
    }
    assert.ok(runs > 500, `${runs} expressions tried`);
  });

  test('fuzz: a real pipeline mutated at random is always answered with ok or located problems', () => {
    const original = readFileSync(join(PROJECT_ROOT, 'pipelines', 'babi-qa.yaml'), 'utf8');
    const random = seededRandom(12);
    const inserts = [
      '[',
      ']',
      '{',
      '}',
      ':',
      '- ',
      '? ',
      "'",
      '"',
      '\n',
      '  ',
      '&a ',
      '*a',
      '!!str ',
      '#',
      '${{ ',
      ' }}',
      '|',
      '>',
      '\t',
      '\u0000',
    ];
    // At least 50 mutations however busy the machine is, more while time allows.
    const deadline = Date.now() + 3_000;
    for (let runs = 0; runs < 50 || (Date.now() < deadline && runs < 400); runs++) {
      let text = original;
      for (let edits = 1 + Math.floor(random() * 6); edits > 0; edits--) {
        const at = Math.floor(random() * text.length);
        const insert = inserts[Math.floor(random() * inserts.length)]!;
        const repeat = random() < 0.1 ? 200 : 1;
        text = text.slice(0, at) + insert.repeat(repeat) + text.slice(at + (random() < 0.5 ? 1 : 0));
      }
      const started = performance.now();
      const result = validatePipelineText({ file: 'fuzz.yaml', content: text }, createCatalog());
      const ms = performance.now() - started;
      assert.ok(ms < 2_000, `${ms.toFixed(0)} ms for ${JSON.stringify(text.slice(0, 80))}`);
      if (!result.ok)
        for (const d of result.diagnostics)
          assert.ok(
            d.line >= 1 && d.col >= 1 && d.message.length > 0,
            `${JSON.stringify(d)} for ${JSON.stringify(text.slice(0, 80))}`,
          );
    }
  });

  test('a document that is not a mapping says what a pipeline must be', () => {
    assert.deepEqual(problems('- just\n- a list\n'), ['1:1: must be a mapping, not a list']);
    assert.deepEqual(problems(''), ['1:1: must be a mapping, not empty']);
  });
});
