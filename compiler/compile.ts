import { withDefaults } from '../core/with-defaults';
import Ajv from 'ajv';
import type { ActivityCatalog, ActivityContract } from '../core/activity-catalog';
import type { Diagnostic, DiagnosticCode } from './diagnostics';
import type { ValueExpr } from '../core/expression-ast';
import { containsExpression, resolveNested } from '../core/expression-eval';
import { parseDuration } from '../core/duration';
import { locate } from './source';
import type { PipelinePlan, PlanPolicy, PlanStep, PlanRetry, PlanTimeouts } from '../core/plan';
import type { StepSpec } from './pipeline-spec';
import { paramValueProblem, type ValidatedPipeline } from './validate';

export interface CompileOptions {
  /** Param values from `--set` (strings) or workflow input (JSON values). */
  readonly params?: Readonly<Record<string, unknown>>;
  readonly noCache?: boolean;
  readonly sha256: string;
  readonly dir?: string;
}

export type CompileResult = { ok: true; plan: PipelinePlan } | { ok: false; diagnostics: Diagnostic[] };

/** Resolves params, folds param-only expressions, applies defaults, and emits the plain-JSON plan. */
export function compilePlan(
  pipeline: ValidatedPipeline,
  catalog: ActivityCatalog,
  options: CompileOptions,
): CompileResult {
  const { spec, source } = pipeline;
  const diagnostics: Diagnostic[] = [];
  const fail = (code: DiagnosticCode, path: (string | number)[], message: string) => {
    const { line, col } = locate(source, path);
    diagnostics.push({ file: source.file, line, col, code, message });
  };

  const declared = spec.params ?? {};
  const params: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(options.params ?? {})) {
    const param = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!param) {
      const names = Object.keys(declared);
      fail(
        'UNDECLARED_PARAM',
        ['params'],
        `param "${name}" was set but is not declared; ${names.length ? `declared params: ${names.join(', ')}` : 'this pipeline declares no params'}`,
      );
      continue;
    }
    const coerced = coerceParam(param.type, value);
    const problem = paramValueProblem(param, coerced);
    if (problem) fail('BAD_PARAM_VALUE', ['params', name], `param "${name}" ${problem}`);
    else params[name] = coerced as string | number | boolean;
  }
  for (const [name, param] of Object.entries(declared)) {
    if (name in params || (options.params && name in options.params)) continue;
    if (param.default === undefined)
      fail(
        'MISSING_PARAM',
        ['params', name],
        `param "${name}" has no default and was not set; pass --set ${name}=<${param.type}>`,
      );
    else params[name] = param.default;
  }

  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const validators = new Map<string, (value: unknown) => boolean>();
  const ajv = new Ajv({ allErrors: true, strict: false });
  const steps: PlanStep[] = [];
  spec.steps.forEach((step, index) => {
    const analysis = pipeline.steps.get(step.id)!;
    const contract = catalog.get(step.uses)!;
    const withValues = resolveNested(analysis.with, { params, steps: {} }, readsOnlyParams) as Record<string, unknown>;
    if (!validators.has(step.uses)) validators.set(step.uses, ajv.compile(contract.with));
    const literal = Object.fromEntries(Object.entries(withValues).filter(([, v]) => !containsExpression(v)));
    const validate = validators.get(step.uses)! as ((value: unknown) => boolean) & {
      errors?: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }[];
    };
    if (!validate(literal)) {
      for (const error of validate.errors ?? []) {
        if (error.keyword === 'required' && String(error.params.missingProperty) in withValues) continue;
        const path = error.instancePath.split('/').slice(1);
        fail(
          'INVALID_AFTER_PARAMS',
          ['steps', index, 'with', ...path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))],
          `step "${step.id}": with${error.instancePath.replace(/\//g, '.')} ${error.message ?? 'is invalid'} (after resolving params)`,
        );
      }
    }
    const stepTimeouts = timeouts(step, contract.defaults.timeouts);
    steps.push({
      id: step.id,
      uses: step.uses,
      ...(step.description !== undefined && { description: step.description }),
      // Every default filled in: the plan in the run's history shows each setting the step used.
      with: withDefaults(contract.with, withValues),
      inputs: analysis.inputs,
      dependsOn: analysis.dependsOn,
      ...(analysis.when && { when: analysis.when }),
      queue: step.queue ?? contract.defaults.queue,
      retry: retryPolicy(step, contract.defaults.retry),
      timeouts: stepTimeouts,
      cache: step.cache ?? true,
      ...(contract.loopActivities && { loop: loopPolicies(contract.loopActivities, stepTimeouts.startToCloseMs) }),
    });
  });
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return {
    ok: true,
    plan: {
      version: 1,
      name: spec.name,
      ...(spec.description !== undefined && { description: spec.description }),
      source: { file: source.file, sha256: options.sha256, ...(options.dir !== undefined && { dir: options.dir }) },
      params,
      steps,
      noCache: options.noCache ?? false,
    },
  };
}

function readsOnlyParams(value: ValueExpr): boolean {
  return !JSON.stringify(value).includes('"steps"');
}

function coerceParam(type: string, value: unknown): unknown {
  if (typeof value !== 'string' || type === 'string') return value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

function retryPolicy(step: StepSpec, defaults: PlanRetry): PlanRetry {
  const retry = step.retry ?? {};
  return {
    maximumAttempts: retry.max_attempts ?? defaults.maximumAttempts,
    initialIntervalMs: retry.initial_interval ? parseDuration(retry.initial_interval) : defaults.initialIntervalMs,
    backoffCoefficient: retry.backoff ?? defaults.backoffCoefficient,
    maximumIntervalMs: retry.max_interval ? parseDuration(retry.max_interval) : defaults.maximumIntervalMs,
  };
}

/** The policies of an epoch loop's other activities: the contract's, on the CPU queue, within the step's time. */
function loopPolicies(
  activities: NonNullable<ActivityContract['loopActivities']>,
  startToCloseMs: number,
): Record<string, PlanPolicy> {
  return Object.fromEntries(
    Object.entries(activities).map(([name, { retry, timeouts }]) => [
      name,
      { queue: 'cpu', retry, timeouts: { startToCloseMs, ...timeouts } },
    ]),
  );
}

function timeouts(step: StepSpec, defaults: PlanTimeouts): PlanTimeouts {
  const timeout = typeof step.timeout === 'string' ? { start_to_close: step.timeout } : (step.timeout ?? {});
  const heartbeatMs = timeout.heartbeat ? parseDuration(timeout.heartbeat) : defaults.heartbeatMs;
  const scheduleToCloseMs = timeout.schedule_to_close
    ? parseDuration(timeout.schedule_to_close)
    : defaults.scheduleToCloseMs;
  return {
    startToCloseMs: timeout.start_to_close ? parseDuration(timeout.start_to_close) : defaults.startToCloseMs,
    ...(heartbeatMs !== undefined && { heartbeatMs }),
    ...(scheduleToCloseMs !== undefined && { scheduleToCloseMs }),
  };
}
