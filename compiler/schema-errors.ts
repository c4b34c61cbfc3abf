import type { ErrorObject } from 'ajv';
import type { Diagnostic, DiagnosticCode } from './diagnostics';
import { PATTERN_MESSAGE_KEYWORD } from '../core/json-schema';
import { locate, type PipelineSource, type SourcePath } from './source';
import { suggest } from './suggest';

/** The schema keywords that bound a size or a number. */
const RANGE_KEYWORDS = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
]);

/** Turns ajv's errors into located diagnostics that say what is allowed. */
export function schemaDiagnostics(errors: readonly ErrorObject[], source: PipelineSource): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const error of errors) {
    const mapped = describe(error, source);
    if (!mapped) continue;
    const { line, col } = locate(source, mapped.path, { key: mapped.atKey });
    diagnostics.push({
      file: source.file,
      line,
      col,
      code: mapped.code,
      message: withContext(mapped.path, source, mapped.message),
    });
  }
  return diagnostics;
}

function describe(
  error: ErrorObject,
  source: PipelineSource,
): { path: SourcePath; code: DiagnosticCode; message: string; atKey?: boolean } | null {
  const path = pointerToPath(error.instancePath);
  // `if` only selects a per-activity branch; the expression branch of anyOf is an alternative, not a rule broken.
  if (error.keyword === 'if' || error.keyword === 'anyOf' || error.schemaPath.includes('/anyOf/1/')) return null;
  // Wrong or missing inputs: the semantic check says more (the artifact kind, how to wire it).
  if (error.schemaPath.includes('/then/properties/inputs/')) return null;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const hint = suggest(key, allowed);
      const list = allowed.length > 0 ? `; allowed keys: ${allowed.join(', ')}` : '';
      return {
        path: [...path, key],
        atKey: true,
        code: 'UNKNOWN_KEY',
        message: `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}${list}`,
      };
    }
    case 'required':
      return { path, code: 'MISSING_KEY', message: `missing required key "${String(error.params.missingProperty)}"` };
    case 'type': {
      const actual = valueAt(source.value, path);
      return {
        path,
        code: 'WRONG_TYPE',
        message: `must be ${joinOr(String(error.params.type).split(','))}, not ${typeName(actual)}`,
      };
    }
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v));
      const actual = valueAt(source.value, path);
      if (path[path.length - 1] === 'uses') {
        const names = (error.params.allowedValues as string[]).join(', ');
        const hint = suggest(String(actual), error.params.allowedValues as string[]);
        return {
          path,
          code: 'UNKNOWN_ACTIVITY',
          message: `unknown activity ${JSON.stringify(actual)}${hint ? ` (did you mean "${hint}"?)` : ''}; available activities: ${names}`,
        };
      }
      return {
        path,
        code: 'NOT_ALLOWED',
        message: `must be one of ${allowed.join(', ')}, not ${JSON.stringify(actual)}`,
      };
    }
    case 'pattern': {
      const custom = parent[PATTERN_MESSAGE_KEYWORD];
      const message = typeof custom === 'string' ? custom : `must match ${String(error.params.pattern)}`;
      // Under propertyNames the culprit is a key, which ajv names separately from the path.
      if (error.propertyName !== undefined) {
        return { path: [...path, error.propertyName], atKey: true, code: 'BAD_FORMAT', message };
      }
      return { path, code: 'BAD_FORMAT', message };
    }
    case 'propertyNames':
      return null;
    default:
      return {
        path,
        code: RANGE_KEYWORDS.has(error.keyword) ? 'OUT_OF_RANGE' : 'NOT_ALLOWED',
        message: error.message ?? `fails ${error.keyword}`,
      };
  }
}

/** Names the step a message is about, since a file has many `with:` blocks. */
function withContext(path: SourcePath, source: PipelineSource, message: string): string {
  if (path[0] === 'steps' && typeof path[1] === 'number' && path.length > 2) {
    const id = (valueAt(source.value, ['steps', path[1]]) as { id?: unknown } | undefined)?.id;
    const where = typeof id === 'string' ? `step "${id}"` : `step ${path[1] + 1}`;
    return `${where}: ${path.slice(2).join('.')}: ${message}`;
  }
  if (path[0] === 'steps' && typeof path[1] === 'number') return `step ${path[1] + 1}: ${message}`;
  return path.length > 0 ? `${path.join('.')}: ${message}` : message;
}

function pointerToPath(pointer: string): SourcePath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

function valueAt(root: unknown, path: SourcePath): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function joinOr(types: string[]): string {
  const names = types.map((t) =>
    t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : t === 'integer' ? 'an integer' : `a ${t}`,
  );
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
