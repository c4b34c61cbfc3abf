import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCatalog } from '../../core/activity-catalog';
import { checkExpression, type ExprScope } from '../../compiler/expression-check';
import { evaluate, evaluateValue, ExpressionEvalError } from '../../core/expression-eval';
import { ExpressionSyntaxError, parseExpression, parseValueExpression } from '../../compiler/expression-parse';

const context = {
  params: { n: 3, name: 'snips', on: true },
  steps: { load: { outputs: { rows: 280, metrics: { f1: 0.97 } } } },
};
const run = (text: string) => evaluate(parseExpression(text), context);

describe('expression language', () => {
  test('evaluates literals, references, comparison and boolean logic with precedence', () => {
    assert.equal(run('-2.5e1'), -25);
    assert.equal(run(`"it's"`), "it's");
    assert.equal(run(`'a\\'b'`), "a'b");
    assert.equal(run('params.n >= 3 && params.name == "snips"'), true);
    assert.equal(run('false || true && false'), false);
    assert.equal(run('!(params.n < 3) && !false'), true);
    assert.equal(run('steps.load.outputs.metrics.f1 > 0.96'), true);
    assert.equal(run('steps.load.outputs.rows != 280'), false);
    assert.equal(run('null == null'), true);
  });

  test('templates interpolate, a lone expression keeps its type', () => {
    assert.equal(evaluateValue(parseValueExpression('${{ params.n }}'), context), 3);
    assert.equal(evaluateValue(parseValueExpression('  ${{ params.on }} '), context), true);
    assert.equal(
      evaluateValue(parseValueExpression('runs/${{ params.name }}-${{ params.n }}.jsonl'), context),
      'runs/snips-3.jsonl',
    );
  });

  test('syntax errors carry the offset of the problem', () => {
    const cases: [string, number, RegExp][] = [
      ['params.n = 3', 9, /use '==' to compare/],
      ['params.n &', 9, /use '&&' or '\|\|'/],
      ['(params.n', 9, /missing '\)'/],
      ["'open", 0, /unterminated string/],
      ['params.', 7, /expected a name after '.'/],
      ['1 2', 2, /unexpected '2'/],
      ['', 0, /empty expression/],
    ];
    for (const [text, offset, message] of cases) {
      assert.throws(
        () => parseExpression(text),
        (error: unknown) =>
          error instanceof ExpressionSyntaxError && error.offset === offset && message.test(error.message),
        text,
      );
    }
    assert.throws(() => parseValueExpression('a ${{ params.n'), /never closed/);
  });

  test('never evaluates code: names outside params and steps are type errors, not lookups', () => {
    const scope: ExprScope = { params: {}, steps: new Map() };
    const { issues } = checkExpression(parseExpression('process.exit'), scope);
    assert.match(issues[0]!.message, /unknown name "process.exit"/);
    assert.match(
      checkExpression(parseExpression('params.constructor'), scope).issues[0]!.message,
      /unknown param "constructor"/,
    );
    assert.throws(() => run('params.constructor'), ExpressionEvalError);
    assert.throws(() => run('steps.toString.outputs.x'), ExpressionEvalError);
  });

  test('type-checks references against params and activity outputs', () => {
    const catalog = createCatalog();
    const scope: ExprScope = { params: { n: { type: 'integer' } }, steps: new Map([['load', catalog.get('load')]]) };
    assert.equal(checkExpression(parseExpression('steps.load.outputs.rows > params.n'), scope).type, 'boolean');
    assert.equal(checkExpression(parseExpression('steps.load.outputs.dataset'), scope).type, 'dataset');
    assert.equal(checkExpression(parseExpression('steps.load.outputs.dataset.rows'), scope).type, 'number');
    assert.deepEqual([...checkExpression(parseExpression('steps.load.outputs.rows > 1'), scope).stepRefs], ['load']);
    assert.match(
      checkExpression(parseExpression('steps.load.outputs.rows.count'), scope).issues[0]!.message,
      /is a number and has no field "count"/,
    );
    assert.match(
      checkExpression(parseExpression('steps.load.rows'), scope).issues[0]!.message,
      /write steps\.load\.outputs\.<name>/,
    );
    assert.match(
      checkExpression(parseExpression('-params.n && true'), scope).issues[0]!.message,
      /'&&' needs booleans, got number/,
    );
  });

  test('run-time type errors are reported, not coerced', () => {
    assert.throws(() => run('params.name > 3'), /compares two numbers or two strings/);
    assert.throws(() => run('params.n && true'), /needs booleans/);
    assert.throws(() => run('steps.train.outputs.f1'), /step "train" has not produced outputs/);
  });
});
