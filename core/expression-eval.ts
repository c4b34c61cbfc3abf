import { isValueExpr, type Expr, type ValueExpr } from './expression-ast';
import { failureClass } from './failures';

/** What expressions can see at run time: resolved params and the outputs of finished steps. */
export interface EvalContext {
  readonly params: Readonly<Record<string, unknown>>;
  readonly steps: Readonly<Record<string, { readonly outputs: Readonly<Record<string, unknown>> }>>;
}

/** Raised when an expression meets a value it cannot use (a missing output, a wrong run-time type). */
export class ExpressionEvalError extends failureClass('ExpressionEvalError') {}

/** Evaluates an expression against run-time values; never uses `eval`. */
export function evaluate(expr: Expr, context: EvalContext): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'ref':
      return resolveRef(expr.path, context);
    case 'unary': {
      const value = evaluate(expr.operand, context);
      if (expr.op === '!') return !asBoolean(value, '!');
      if (typeof value !== 'number') throw new ExpressionEvalError(`'-' needs a number, got ${describe(value)}`);
      return -value;
    }
    case 'binary':
      return evaluateBinary(expr, context);
  }
}

/** Resolves a `${{ }}` value: a whole expression keeps its type, a template becomes a string. */
export function evaluateValue(value: ValueExpr, context: EvalContext): unknown {
  if ('$expr' in value) return evaluate(value.$expr, context);
  return value.$template.map((part) => (typeof part === 'string' ? part : stringify(evaluate(part, context)))).join('');
}

/**
 * Replaces the `${{ }}` values anywhere inside `value` (objects and lists included) by their results;
 * `select` limits which ones, leaving the rest for later.
 */
export function resolveNested(
  value: unknown,
  context: EvalContext,
  select: (expr: ValueExpr) => boolean = () => true,
): unknown {
  if (isValueExpr(value)) return select(value) ? evaluateValue(value, context) : value;
  if (Array.isArray(value)) return value.map((item) => resolveNested(item, context, select));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveNested(v, context, select)]));
  }
  return value;
}

/** True when `value` still holds a `${{ }}` value somewhere inside. */
export function containsExpression(value: unknown): boolean {
  if (isValueExpr(value)) return true;
  if (Array.isArray(value)) return value.some(containsExpression);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsExpression);
  return false;
}

function evaluateBinary(expr: Extract<Expr, { kind: 'binary' }>, context: EvalContext): unknown {
  if (expr.op === '&&')
    return asBoolean(evaluate(expr.left, context), '&&') && asBoolean(evaluate(expr.right, context), '&&');
  if (expr.op === '||')
    return asBoolean(evaluate(expr.left, context), '||') || asBoolean(evaluate(expr.right, context), '||');
  const left = evaluate(expr.left, context);
  const right = evaluate(expr.right, context);
  switch (expr.op) {
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    default: {
      const comparable =
        (typeof left === 'number' && typeof right === 'number') ||
        (typeof left === 'string' && typeof right === 'string');
      if (!comparable) {
        throw new ExpressionEvalError(
          `'${expr.op}' compares two numbers or two strings, got ${describe(left)} and ${describe(right)}`,
        );
      }
      const l = left;
      const r = right;
      if (expr.op === '<') return l < r;
      if (expr.op === '<=') return l <= r;
      if (expr.op === '>') return l > r;
      return l >= r;
    }
  }
}

function resolveRef(path: readonly string[], context: EvalContext): unknown {
  const [root, ...rest] = path;
  let value: unknown;
  let walked: string[];
  if (root === 'params') {
    value = context.params;
    walked = ['params'];
  } else {
    const id = rest[0] ?? '';
    const step = Object.hasOwn(context.steps, id) ? context.steps[id] : undefined;
    if (!step) throw new ExpressionEvalError(`step "${rest[0]}" has not produced outputs`);
    value = step;
    walked = ['steps', rest.shift()!];
  }
  for (const key of rest) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
      throw new ExpressionEvalError(`${[...walked, key].join('.')} is not set`);
    }
    value = (value as Record<string, unknown>)[key];
    walked.push(key);
  }
  return value;
}

function asBoolean(value: unknown, op: string): boolean {
  if (typeof value !== 'boolean') throw new ExpressionEvalError(`'${op}' needs booleans, got ${describe(value)}`);
  return value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function describe(value: unknown): string {
  return value === null ? 'null' : `${typeof value} ${JSON.stringify(value)}`;
}
