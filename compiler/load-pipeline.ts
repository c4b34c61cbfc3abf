import Ajv, { type ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { ActivityCatalog } from '../core/activity-catalog';
import { compilePlan } from './compile';
import { formatDiagnostics, PipelineError, type Diagnostic, type DiagnosticCode } from './diagnostics';
import { PATTERN_MESSAGE_KEYWORD } from '../core/json-schema';
import { buildPipelineSchema } from './schema';
import { schemaDiagnostics } from './schema-errors';
import { locate, parsePipelineSource } from './source';
import { SOURCE_LIMITS } from './source-limits';
import type { PipelinePlan } from '../core/plan';
import { checkSemantics, validatedPipeline, type ValidatedPipeline } from './validate';

/** Pipeline text and where it came from. */
export interface PipelineText {
  readonly file: string;
  readonly content: Uint8Array | string;
  /** Folder that relative paths in the pipeline are resolved against. */
  readonly dir?: string;
}

export type ValidationResult =
  { ok: true; pipeline: ValidatedPipeline } | { ok: false; diagnostics: Diagnostic[]; text?: string };

const validators = new WeakMap<ActivityCatalog, ValidateFunction>();

function schemaValidator(catalog: ActivityCatalog): ValidateFunction {
  let validate = validators.get(catalog);
  if (!validate) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword(PATTERN_MESSAGE_KEYWORD);
    validate = ajv.compile(buildPipelineSchema(catalog));
    validators.set(catalog, validate);
  }
  return validate;
}

/** Parses and validates a pipeline, collecting every problem rather than stopping at the first. */
export function validatePipelineText(input: PipelineText, catalog: ActivityCatalog): ValidationResult {
  const parsed = parsePipelineSource(input.file, input.content);
  if (!parsed.ok) return parsed;
  const { source } = parsed;
  const validate = schemaValidator(catalog);
  const diagnostics: Diagnostic[] = [];
  if (!validate(source.value)) diagnostics.push(...schemaDiagnostics(validate.errors ?? [], source));
  const semantics = checkSemantics(source, catalog);
  diagnostics.push(...semantics.diagnostics);
  if (diagnostics.length > 0) return { ok: false, diagnostics, text: source.text };
  return { ok: true, pipeline: validatedPipeline(source, semantics.steps) };
}

/** Finds a pipeline given as inline YAML, a file path, or a name under the pipelines folder. */
export function readPipelineRef(ref: string, pipelinesDir: string): PipelineText {
  if (ref.includes('\n')) return { file: '<inline>', content: ref };
  const candidates = isPathLike(ref)
    ? [resolve(ref)]
    : [join(pipelinesDir, `${ref}.yaml`), join(pipelinesDir, `${ref}.yml`), join(pipelinesDir, ref)];
  const file = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!file) {
    const known = listPipelineNames(pipelinesDir);
    const hint = known.length > 0 ? `; pipelines in ${pipelinesDir}: ${known.join(', ')}` : '';
    const message = `pipeline "${ref}" not found (looked for ${candidates.join(', ')})${hint}`;
    throw new PipelineError([{ file: ref, line: 1, col: 1, code: 'PIPELINE_NOT_FOUND', message }], message);
  }
  const size = statSync(file).size;
  if (size > SOURCE_LIMITS.maxBytes) {
    const diagnostic = {
      file: displayPath(file),
      line: 1,
      col: 1,
      code: 'FILE_TOO_LARGE' as const,
      message: `file is ${size} bytes; pipeline files are limited to ${SOURCE_LIMITS.maxBytes} bytes`,
    };
    throw new PipelineError([diagnostic], formatDiagnostics([diagnostic]));
  }
  return { file: displayPath(file), content: readFileSync(file), dir: dirname(file) };
}

/** Names of the pipelines in a folder (files ending .yaml or .yml). */
export function listPipelineNames(pipelinesDir: string): string[] {
  if (!existsSync(pipelinesDir)) return [];
  return readdirSync(pipelinesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

export interface BuildPlanOptions {
  readonly params?: Readonly<Record<string, unknown>>;
  readonly noCache?: boolean;
  readonly pipelinesDir: string;
  /** Checks of the compiled plan that need what only the caller knows (the worker's data roots). */
  readonly checkPlan?: (plan: PipelinePlan) => readonly PlanProblem[];
}

/** A problem with one setting of a compiled step, found by a `checkPlan` check; reported at its place in the file. */
export interface PlanProblem {
  readonly step: string;
  /** Where in the step, e.g. ['with', 'path']. */
  readonly key: readonly (string | number)[];
  readonly code: DiagnosticCode;
  readonly message: string;
}

/** Loads, validates and compiles a pipeline reference into a plan, or throws a PipelineError listing every problem. */
export function buildPlan(ref: string, catalog: ActivityCatalog, options: BuildPlanOptions): PipelinePlan {
  const input = readPipelineRef(ref, options.pipelinesDir);
  const result = validatePipelineText(input, catalog);
  if (!result.ok) throw new PipelineError(result.diagnostics, formatDiagnostics(result.diagnostics, result.text));
  const sha256 = createHash('sha256').update(input.content).digest('hex');
  const compiled = compilePlan(result.pipeline, catalog, {
    sha256,
    ...(input.dir !== undefined && { dir: input.dir }),
    ...(options.params !== undefined && { params: options.params }),
    ...(options.noCache !== undefined && { noCache: options.noCache }),
  });
  if (!compiled.ok)
    throw new PipelineError(compiled.diagnostics, formatDiagnostics(compiled.diagnostics, result.pipeline.source.text));
  const problems = options.checkPlan?.(compiled.plan) ?? [];
  if (problems.length > 0) {
    const { source, spec } = result.pipeline;
    const index = new Map(spec.steps.map((step, i) => [step.id, i]));
    const diagnostics = problems.map((problem): Diagnostic => {
      const { line, col } = locate(source, ['steps', index.get(problem.step) ?? 0, ...problem.key]);
      return {
        file: source.file,
        line,
        col,
        code: problem.code,
        message: `step "${problem.step}": ${problem.key.join('.')}: ${problem.message}`,
      };
    });
    throw new PipelineError(diagnostics, formatDiagnostics(diagnostics, source.text));
  }
  return compiled.plan;
}

function isPathLike(ref: string): boolean {
  return isAbsolute(ref) || ref.includes('/') || ref.includes('\\') || /\.ya?ml$/.test(ref);
}

/** Paths under the working directory print relative to it, as editors and terminals link them. */
function displayPath(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}
