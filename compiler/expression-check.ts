import type { ActivityContract } from '../core/activity-catalog';
import type { DiagnosticCode } from './diagnostics';
import type { Expr } from '../core/expression-ast';
import { suggest } from './suggest';
import { ARTIFACT_KINDS, type ArtifactKind, type ValueType } from '../core/artifacts';
import { type ParamSpec } from './pipeline-spec';

/** What an expression may refer to: the declared params and the steps with their activity contracts. */
export interface ExprScope {
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly steps: ReadonlyMap<string, ActivityContract | undefined>;
}

export interface ExprIssue {
  readonly offset: number;
  /** A name the scope lacks, or operands of the wrong type. */
  readonly code: Extract<DiagnosticCode, 'UNKNOWN_REFERENCE' | 'EXPRESSION_TYPE'>;
  readonly message: string;
}

export interface ExprCheck {
  readonly type: ValueType;
  readonly issues: readonly ExprIssue[];
  /** Steps whose outputs the expression reads: the step must wait for them. */
  readonly stepRefs: ReadonlySet<string>;
}

const ARTIFACT_FIELDS: Record<string, ValueType> = {
  rows: 'number',
  bytes: 'number',
  sha256: 'string',
  uri: 'string',
  kind: 'string',
};

/** Type-checks an expression at validation time, so a bad reference fails before any run starts. */
export function checkExpression(expr: Expr, scope: ExprScope): ExprCheck {
  const issues: ExprIssue[] = [];
  const stepRefs = new Set<string>();
  const typeOf = (node: Expr): ValueType => {
    switch (node.kind) {
      case 'literal':
        return node.value === null ? 'null' : (typeof node.value as ValueType);
      case 'ref':
        return refType(node, scope, issues, stepRefs);
      case 'unary': {
        const operand = typeOf(node.operand);
        const want = node.op === '!' ? 'boolean' : 'number';
        if (!compatible(operand, want))
          issues.push({
            offset: node.offset,
            code: 'EXPRESSION_TYPE',
            message: `'${node.op}' needs a ${want}, got ${operand}`,
          });
        return want;
      }
      case 'binary': {
        const left = typeOf(node.left);
        const right = typeOf(node.right);
        if (node.op === '&&' || node.op === '||') {
          for (const side of [left, right]) {
            if (!compatible(side, 'boolean'))
              issues.push({
                offset: node.offset,
                code: 'EXPRESSION_TYPE',
                message: `'${node.op}' needs booleans, got ${side}`,
              });
          }
        } else if (node.op === '==' || node.op === '!=') {
          if (left !== right && !loose(left) && !loose(right)) {
            issues.push({
              offset: node.offset,
              code: 'EXPRESSION_TYPE',
              message: `'${node.op}' compares a ${left} with a ${right}; they can never be equal`,
            });
          }
        } else {
          const ordered = (t: ValueType) => t === 'number' || t === 'string' || t === 'any';
          if (!ordered(left) || !ordered(right) || (left !== right && left !== 'any' && right !== 'any')) {
            issues.push({
              offset: node.offset,
              code: 'EXPRESSION_TYPE',
              message: `'${node.op}' compares two numbers or two strings, got ${left} and ${right}`,
            });
          }
        }
        return 'boolean';
      }
    }
  };
  return { type: typeOf(expr), issues, stepRefs };
}

/** True when a value of type `actual` may stand where `expected` is wanted. */
export function compatible(actual: ValueType, expected: ValueType): boolean {
  return actual === expected || actual === 'any' || expected === 'any';
}

function loose(type: ValueType): boolean {
  return type === 'any' || type === 'null';
}

function refType(
  node: Extract<Expr, { kind: 'ref' }>,
  scope: ExprScope,
  issues: ExprIssue[],
  stepRefs: Set<string>,
): ValueType {
  const [root, name, third, output, ...rest] = node.path;
  const fail = (message: string): ValueType => {
    issues.push({ offset: node.offset, code: 'UNKNOWN_REFERENCE', message });
    return 'any';
  };
  if (root === 'params') {
    const declared = Object.keys(scope.params);
    if (name === undefined) return fail('write params.<name>');
    const param = Object.hasOwn(scope.params, name) ? scope.params[name] : undefined;
    if (!param) {
      const hint = suggest(name, declared);
      const list =
        declared.length > 0 ? `; declared params: ${declared.join(', ')}` : '; this pipeline declares no params';
      return fail(`unknown param "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}${list}`);
    }
    if (third !== undefined) return fail(`params.${name} is a ${param.type} and has no field "${third}"`);
    return param.type === 'integer' ? 'number' : param.type;
  }
  if (root === 'steps') {
    const ids = [...scope.steps.keys()];
    if (name === undefined) return fail('write steps.<id>.outputs.<name>');
    if (!scope.steps.has(name)) {
      const hint = suggest(name, ids);
      return fail(`unknown step "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; steps: ${ids.join(', ')}`);
    }
    stepRefs.add(name);
    if (third !== 'outputs' || output === undefined) return fail(`write steps.${name}.outputs.<name>`);
    const contract = scope.steps.get(name);
    if (!contract) return 'any';
    const spec = Object.hasOwn(contract.outputs, output) ? contract.outputs[output] : undefined;
    if (!spec) {
      const outputs = Object.keys(contract.outputs);
      const hint = suggest(output, outputs);
      return fail(
        `step "${name}" (${contract.name}) has no output "${output}"${hint ? ` (did you mean "${hint}"?)` : ''}; its outputs: ${outputs.join(', ')}`,
      );
    }
    if (rest.length === 0) return spec.type;
    if (spec.type === 'object' || spec.type === 'any') return 'any';
    const field = rest[0]!;
    if (isArtifactType(spec.type) && rest.length === 1 && Object.hasOwn(ARTIFACT_FIELDS, field))
      return ARTIFACT_FIELDS[field]!;
    return fail(`steps.${name}.outputs.${output} is a ${spec.type} and has no field "${rest.join('.')}"`);
  }
  return fail(`unknown name "${node.path.join('.')}": expressions read params.<name> or steps.<id>.outputs.<name>`);
}

/** True for the types that name artifacts rather than plain values. */
export function isArtifactType(type: ValueType): type is ArtifactKind {
  return (ARTIFACT_KINDS as readonly string[]).includes(type);
}
