import { asRecord } from './as-record';
import type { ActivityCatalog, ActivityContract } from '../core/activity-catalog';
import { PATTERN_MESSAGE_KEYWORD, type JsonSchema } from '../core/json-schema';
import type { Diagnostic, DiagnosticCode } from './diagnostics';
import type { Expr, ValueExpr } from '../core/expression-ast';
import { checkExpression, compatible, isArtifactType, type ExprScope } from './expression-check';
import { ExpressionSyntaxError, hasExpression, parseValueExpression } from './expression-parse';
import { locate, type PipelineSource, type SourcePath } from './source';
import { checkFreeze } from './freeze-check';
import { checkGroupPatterns } from './group-check';
import { checkPretrained } from './pretrained-check';
import { stepLookup, type Reporter } from './step-lookup';
import { checkTasks } from './task-check';
import type { ParamSpec, PipelineSpec } from './pipeline-spec';
import type { ValueType } from '../core/artifacts';

/** What validation learned about a step: its parsed expressions and what it waits for. */
export interface StepAnalysis {
  readonly with: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, { readonly step: string; readonly output: string }>>;
  readonly when?: ValueExpr;
  readonly dependsOn: readonly string[];
}

export interface ValidatedPipeline {
  readonly source: PipelineSource;
  readonly spec: PipelineSpec;
  readonly steps: ReadonlyMap<string, StepAnalysis>;
}

/** Names that would shadow what every JavaScript object has, so no step id or param may take them. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks what a schema cannot: unique ids, references, wiring kinds, expression types and cycles.
 * Runs even when the schema check failed, skipping malformed parts, so one pass reports every problem.
 */
export function checkSemantics(
  source: PipelineSource,
  catalog: ActivityCatalog,
): { diagnostics: Diagnostic[]; steps: Map<string, StepAnalysis> } {
  const diagnostics: Diagnostic[] = [];
  const report: Reporter = (code, path, message, key = false) => {
    const { line, col } = locate(source, path, { key });
    diagnostics.push({ file: source.file, line, col, code, message });
  };
  const reportInString = (code: DiagnosticCode, path: SourcePath, offset: number, message: string) => {
    const { line, col } = locateInString(source, path, offset);
    diagnostics.push({ file: source.file, line, col, code, message });
  };

  const root = asRecord(source.value);
  for (const name of Object.keys(asRecord(root?.params) ?? {}))
    if (RESERVED_NAMES.has(name))
      report(
        'RESERVED_NAME',
        ['params', name],
        `parameter name "${name}" is reserved by JavaScript objects; choose another`,
        true,
      );
  const params = validParams(root?.params);
  checkParamDefaults(params, report);
  const rawSteps = Array.isArray(root?.steps) ? (root.steps as unknown[]) : [];

  const stepIndex = new Map<string, number>();
  const scopeSteps = new Map<string, ActivityContract | undefined>();
  rawSteps.forEach((raw, index) => {
    const id = asRecord(raw)?.id;
    if (typeof id !== 'string') return;
    if (RESERVED_NAMES.has(id))
      report(
        'RESERVED_NAME',
        ['steps', index, 'id'],
        `step id "${id}" is reserved by JavaScript objects; choose another`,
      );
    const first = stepIndex.get(id);
    if (first !== undefined) {
      const { line } = locate(source, ['steps', first, 'id']);
      report(
        'DUPLICATE_STEP_ID',
        ['steps', index, 'id'],
        `duplicate step id "${id}" (first defined at line ${line}); step ids must be unique`,
      );
      return;
    }
    stepIndex.set(id, index);
    const uses = asRecord(raw)?.uses;
    scopeSteps.set(id, typeof uses === 'string' ? catalog.get(uses) : undefined);
  });
  const scope: ExprScope = { params, steps: scopeSteps };

  const analyses = new Map<string, StepAnalysis>();
  for (const [id, index] of stepIndex) {
    const step = asRecord(rawSteps[index])!;
    const contract = scopeSteps.get(id);
    const at = (...rest: (string | number)[]): SourcePath => ['steps', index, ...rest];
    const dependsOn = new Set<string>();

    const parseAndCheck = (
      path: SourcePath,
      text: string,
      expected: ValueType,
      what: string,
      schema?: JsonSchema,
    ): ValueExpr | undefined => {
      let value: ValueExpr;
      try {
        value = parseValueExpression(text);
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError)) throw error;
        reportInString(
          'EXPRESSION_SYNTAX',
          path,
          error.offset,
          `step "${id}": ${what}: invalid expression: ${error.message}`,
        );
        return undefined;
      }
      const exprs = '$expr' in value ? [value.$expr] : value.$template.filter((p): p is Expr => typeof p !== 'string');
      const types = new Map<Expr, ValueType>();
      for (const expr of exprs) {
        const result = checkExpression(expr, scope);
        if (result.issues.length === 0) types.set(expr, result.type);
        result.issues.forEach((issue) =>
          reportInString(issue.code, path, issue.offset, `step "${id}": ${what}: ${issue.message}`),
        );
        result.stepRefs.forEach((ref) => dependsOn.add(ref));
        const type = '$expr' in value ? result.type : 'string';
        if (result.issues.length === 0 && isArtifactType(result.type) && !what.startsWith('inputs')) {
          reportInString(
            'ARTIFACT_IN_EXPRESSION',
            path,
            expr.offset,
            `step "${id}": ${what}: artifacts are wired through inputs:, not read in expressions`,
          );
        } else if (result.issues.length === 0 && !compatible(type, expected)) {
          reportInString(
            'EXPRESSION_TYPE',
            path,
            expr.offset,
            `step "${id}": ${what} must be a ${expected}, but this expression is a ${type}`,
          );
        }
      }
      if ('$template' in value && typeof schema?.pattern === 'string') {
        const problem = templatePatternProblem(value.$template, types, schema);
        if (problem) report('BAD_FORMAT', path, `step "${id}": ${path.slice(2).join('.')}: ${problem}`);
      }
      return value;
    };

    const inputs: Record<string, { step: string; output: string }> = {};
    const rawInputs = asRecord(step.inputs) ?? {};
    for (const [name, ref] of Object.entries(rawInputs)) {
      if (!contract) break;
      const declared = Object.hasOwn(contract.inputs, name) ? contract.inputs[name] : undefined;
      if (!declared) {
        const names = Object.keys(contract.inputs);
        report(
          'UNKNOWN_INPUT',
          at('inputs', name),
          `step "${id}": activity "${contract.name}" has no input "${name}"; ${names.length ? `its inputs: ${names.join(', ')}` : 'it takes no inputs'}`,
          true,
        );
        continue;
      }
      if (typeof ref !== 'string' || !hasExpression(ref)) continue;
      const value = parseAndCheck(at('inputs', name), ref, declared.kind, `inputs.${name}`);
      if (!value) continue;
      const wired = '$expr' in value && value.$expr.kind === 'ref' ? value.$expr.path : undefined;
      if (!wired || wired[0] !== 'steps' || wired.length !== 4) {
        report(
          'BAD_WIRING',
          at('inputs', name),
          `step "${id}": inputs.${name} must be one output reference like \${{ steps.load.outputs.dataset }}`,
        );
        continue;
      }
      inputs[name] = { step: wired[1]!, output: wired[3]! };
    }
    if (contract) {
      for (const [name, declared] of Object.entries(contract.inputs)) {
        if (declared.required && !(name in rawInputs)) {
          report(
            'MISSING_INPUT',
            at('uses'),
            `step "${id}": activity "${contract.name}" needs input "${name}" (a ${declared.kind}); wire it under inputs:`,
          );
        }
      }
    }

    const rawNeeds = Array.isArray(step.needs) ? step.needs : [];
    rawNeeds.forEach((need, i) => {
      if (typeof need !== 'string') return;
      if (need === id) report('SELF_DEPENDENCY', at('needs', i), `step "${id}" cannot need itself`);
      else if (!stepIndex.has(need))
        report(
          'UNKNOWN_STEP',
          at('needs', i),
          `step "${id}": needs unknown step "${need}"; steps: ${[...stepIndex.keys()].join(', ')}`,
        );
      else dependsOn.add(need);
    });

    let when: ValueExpr | undefined;
    if (step.when === false) when = { $expr: { kind: 'literal', value: false, offset: 0 } };
    if (typeof step.when === 'string') {
      if (!hasExpression(step.when))
        report('BAD_CONDITION', at('when'), `step "${id}": when must be true, false or a \${{ }} expression`);
      else when = parseAndCheck(at('when'), step.when, 'boolean', 'when');
      if (when && '$template' in when) {
        report(
          'BAD_CONDITION',
          at('when'),
          `step "${id}": when must be a single \${{ }} expression, with nothing around it`,
        );
        when = undefined;
      }
    }

    const withSchema = (contract?.with.properties ?? {}) as Record<string, JsonSchema>;
    const withValues = Object.fromEntries(
      Object.entries(asRecord(step.with) ?? {}).map(([key, value]) => [
        key,
        mapExpressions(
          value,
          at('with', key),
          (path, text, nested, schema) =>
            parseAndCheck(
              path,
              text,
              nested || !Object.hasOwn(withSchema, key) ? 'any' : expectedType(withSchema[key]),
              `with.${key}`,
              schema,
            ),
          Object.hasOwn(withSchema, key) ? withSchema[key] : undefined,
        ),
      ]),
    );

    if (dependsOn.delete(id))
      report('SELF_DEPENDENCY', at('id'), `step "${id}" reads its own outputs; a step can only read steps before it`);
    analyses.set(id, { with: withValues, inputs, when, dependsOn: [...dependsOn] });
  }

  const lookup = stepLookup(rawSteps, stepIndex);
  checkTasks(lookup, analyses, report);
  checkPretrained(lookup, analyses, report);
  checkFreeze(lookup, analyses.keys(), report);
  checkGroupPatterns(lookup, analyses.keys(), report);
  for (const cycle of findCycles(analyses, [...stepIndex.keys()])) {
    report(
      'DEPENDENCY_CYCLE',
      ['steps', stepIndex.get(cycle[0]!)!, 'id'],
      `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`,
    );
  }
  return { diagnostics, steps: analyses };
}

/** Assembles the validated pipeline once schema and semantic checks have passed. */
export function validatedPipeline(source: PipelineSource, steps: Map<string, StepAnalysis>): ValidatedPipeline {
  return { source, spec: source.value as PipelineSpec, steps };
}

function checkParamDefaults(params: Record<string, ParamSpec>, report: Reporter): void {
  for (const [name, param] of Object.entries(params)) {
    if (param.default === undefined) continue;
    const problem = paramValueProblem(param, param.default);
    if (problem) report('BAD_PARAM_VALUE', ['params', name, 'default'], `params.${name}: default ${problem}`);
  }
}

/** Why `value` is not a valid value of `param`, or undefined when it is. */
export function paramValueProblem(param: ParamSpec, value: unknown): string | undefined {
  const typeOk =
    param.type === 'integer'
      ? Number.isInteger(value)
      : param.type === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : typeof value === param.type;
  if (!typeOk) return `must be ${param.type === 'integer' ? 'an' : 'a'} ${param.type}, not ${JSON.stringify(value)}`;
  if (param.enum && !param.enum.includes(value as string | number)) {
    return `must be one of ${param.enum.map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(value)}`;
  }
  if (typeof value === 'number' && param.minimum !== undefined && value < param.minimum)
    return `must be >= ${param.minimum}, not ${value}`;
  if (typeof value === 'number' && param.maximum !== undefined && value > param.maximum)
    return `must be <= ${param.maximum}, not ${value}`;
  return undefined;
}

function validParams(raw: unknown): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(asRecord(raw) ?? {})) {
    const type = asRecord(spec)?.type;
    if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean')
      out[name] = spec as ParamSpec;
  }
  return out;
}

function expectedType(schema: JsonSchema | undefined): ValueType {
  if (!schema) return 'any';
  const type = schema.type;
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'string' || type === 'boolean') return type;
  if (type === 'object' || type === 'array') return 'object';
  if (Array.isArray(schema.enum)) {
    const kinds = new Set(schema.enum.map((v) => typeof v));
    if (kinds.size === 1) return [...kinds][0] as ValueType;
  }
  return 'any';
}

/** Replaces every string holding `${{` inside a `with:` value by its parsed form; `schema` is the value's, as far as known. */
function mapExpressions(
  value: unknown,
  path: SourcePath,
  parse: (path: SourcePath, text: string, nested: boolean, schema: JsonSchema | undefined) => ValueExpr | undefined,
  schema: JsonSchema | undefined,
  nested = false,
): unknown {
  if (typeof value === 'string') return hasExpression(value) ? (parse(path, value, nested, schema) ?? value) : value;
  if (Array.isArray(value))
    return value.map((item, i) => mapExpressions(item, [...path, i], parse, asRecord(schema?.items), true));
  const record = asRecord(value);
  const properties = asRecord(schema?.properties);
  if (record)
    return Object.fromEntries(
      Object.entries(record).map(([k, v]) => [
        k,
        mapExpressions(v, [...path, k], parse, asRecord(properties?.[k]), true),
      ]),
    );
  return value;
}

/** What a number or boolean looks like in text: any one will do to check the text around it. */
const SAMPLE_TEXT: Partial<Record<ValueType, string>> = { number: '1', boolean: 'true' };

/**
 * Why a template cannot match its schema's pattern whatever its expressions' values, or
 * undefined: each number or boolean expression is replaced by a sample value and the text checked
 * (`f1_macro >> ${{ params.min_f1 }}` is wrong for every min_f1). Templates with expressions of
 * other types are left to run time.
 */
function templatePatternProblem(
  template: readonly (string | Expr)[],
  types: ReadonlyMap<Expr, ValueType>,
  schema: JsonSchema,
): string | undefined {
  const parts = template.map((part) => (typeof part === 'string' ? part : SAMPLE_TEXT[types.get(part) ?? 'any']));
  if (parts.some((part) => part === undefined)) return undefined;
  if (new RegExp(String(schema.pattern), 'u').test(parts.join(''))) return undefined;
  const custom = schema[PATTERN_MESSAGE_KEYWORD];
  return typeof custom === 'string' ? custom : `must match ${String(schema.pattern)}`;
}

/** Every elementary cycle found by depth-first search, each once, starting at its first step in file order. */
function findCycles(steps: ReadonlyMap<string, StepAnalysis>, order: readonly string[]): string[][] {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    for (const dep of steps.get(id)?.dependsOn ?? []) {
      if (state.get(dep) === 'active') {
        const cycle = stack.slice(stack.indexOf(dep)).reverse();
        const start = cycle.reduce((best, s) => (order.indexOf(s) < order.indexOf(best) ? s : best));
        const rotated = [...cycle.slice(cycle.indexOf(start)), ...cycle.slice(0, cycle.indexOf(start))];
        const key = [...rotated].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(rotated);
        }
      } else if (!state.has(dep) && steps.has(dep)) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of order) if (!state.has(id)) visit(id);
  return cycles;
}

/** Position of a character offset inside a YAML string value, when the source spells the string verbatim. */
function locateInString(source: PipelineSource, path: SourcePath, offset: number): { line: number; col: number } {
  const node = source.doc.getIn(path as (string | number)[], true) as
    { range?: [number, number]; value?: unknown } | undefined;
  if (!node?.range || typeof node.value !== 'string') return locate(source, path);
  const raw = source.text.slice(node.range[0], node.range[1]);
  const at = raw.indexOf(node.value);
  if (at < 0) return locate(source, path);
  return source.lineCounter.linePos(node.range[0] + at + offset);
}
