import type { ActivityCatalog, ActivityContract } from '../core/activity-catalog';
import { PATTERN_MESSAGE_KEYWORD, type JsonSchema } from '../core/json-schema';
import { DURATION_PATTERN } from '../core/duration';
import { PARAM_TYPES } from './pipeline-spec';
import { QUEUES } from '../core/plan';

export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const EXPRESSION_PATTERN = '^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$';
/** A string with an expression somewhere in it. */
const TEMPLATE_PATTERN = '\\$\\{\\{[\\s\\S]*\\}\\}';
const DURATION_HINT = 'a duration such as 500ms, 30s, 10m, 2h or 1d';

const duration = (description: string): JsonSchema => ({
  type: 'string',
  pattern: DURATION_PATTERN,
  [PATTERN_MESSAGE_KEYWORD]: `must be ${DURATION_HINT}`,
  description,
});

/** Lets every value of a `with:` schema, nested ones too, also take a `${{ }}` expression. */
function allowExpressions(schema: JsonSchema): JsonSchema {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const wrapped = Object.fromEntries(
    Object.entries(properties).map(([key, property]) => [key, orExpression(property)]),
  );
  return { ...schema, properties: wrapped };
}

/** A schema that also accepts an expression; strings may also be templates like `f1 >= ${{ params.x }}`. */
function orExpression(schema: JsonSchema): JsonSchema {
  let inner = schema;
  if (schema.properties !== undefined) inner = allowExpressions(schema);
  if (schema.items !== undefined) inner = { ...inner, items: orExpression(schema.items as JsonSchema) };
  const isString = schema.type === 'string';
  return {
    description: schema.description,
    anyOf: [
      inner,
      isString
        ? {
            type: 'string',
            pattern: TEMPLATE_PATTERN,
            [PATTERN_MESSAGE_KEYWORD]: 'or a text with ${{ }} expressions in it',
          }
        : { type: 'string', pattern: EXPRESSION_PATTERN, [PATTERN_MESSAGE_KEYWORD]: 'or one ${{ }} expression' },
    ],
  };
}

/**
 * An activity's input names for editors to complete and check. validate.ts reports a wrong or
 * missing input itself, naming the artifact kind, so schemaDiagnostics leaves these errors out.
 */
function inputsSchema(contract: ActivityContract): JsonSchema {
  const required = Object.entries(contract.inputs)
    .filter(([, input]) => input.required)
    .map(([name]) => name);
  return {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(contract.inputs).map(([name, input]) => [
        name,
        { description: `${input.description} (a ${input.kind})` },
      ]),
    ),
    additionalProperties: false,
    ...(required.length > 0 && { required }),
  };
}

/** The JSON Schema of a pipeline file for the given activity catalog; published as pipelines/pipeline.schema.json. */
export function buildPipelineSchema(catalog: ActivityCatalog): JsonSchema {
  const activityNames = [...catalog.keys()];
  const step: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'uses'],
    properties: {
      id: {
        type: 'string',
        pattern: IDENTIFIER_PATTERN,
        [PATTERN_MESSAGE_KEYWORD]: 'must start with a letter or _ and hold only letters, digits and _',
        description: 'Unique name of the step; other steps refer to it as `steps.<id>`.',
      },
      uses: {
        enum: activityNames,
        description: `The activity this step runs: ${activityNames.join(', ')}.`,
      },
      description: { type: 'string', description: 'Shown in the run’s step table.' },
      with: { type: 'object', description: 'Parameters of the activity, checked against its own schema.' },
      inputs: {
        type: 'object',
        description: 'Artifacts this step consumes, wired as `name: ${{ steps.<id>.outputs.<output> }}`.',
        propertyNames: {
          pattern: IDENTIFIER_PATTERN,
          [PATTERN_MESSAGE_KEYWORD]: 'input names start with a letter or _ and hold only letters, digits and _',
        },
        additionalProperties: {
          type: 'string',
          pattern: EXPRESSION_PATTERN,
          [PATTERN_MESSAGE_KEYWORD]: 'must be an output reference like ${{ steps.load.outputs.dataset }}',
        },
      },
      needs: {
        type: 'array',
        items: { type: 'string' },
        uniqueItems: true,
        description: 'Steps that must finish first even though no artifact flows between them.',
      },
      when: {
        type: ['boolean', 'string'],
        description:
          'Run the step only if this is true, e.g. `${{ params.evaluate && steps.clean.outputs.rows > 100 }}`.',
      },
      queue: { enum: [...QUEUES], description: 'Where the step runs: `cpu` workers or `gpu` workers.' },
      retry: {
        type: 'object',
        additionalProperties: false,
        description: 'How a failed attempt is retried.',
        properties: {
          max_attempts: {
            type: 'integer',
            minimum: 1,
            maximum: 100,
            description: 'Attempts in all, the first included.',
          },
          initial_interval: duration('Wait before the first retry.'),
          backoff: { type: 'number', minimum: 1, description: 'Each wait is this many times the one before.' },
          max_interval: duration('Longest wait between attempts.'),
        },
      },
      timeout: {
        type: ['string', 'object'],
        pattern: DURATION_PATTERN,
        [PATTERN_MESSAGE_KEYWORD]: `must be ${DURATION_HINT}`,
        additionalProperties: false,
        description:
          'Longest time one attempt may take, or an object with start_to_close, heartbeat, schedule_to_close.',
        properties: {
          start_to_close: duration('Longest time one attempt may take.'),
          heartbeat: duration('An attempt that is silent this long is considered lost and retried.'),
          schedule_to_close: duration('Longest time for all attempts together.'),
        },
      },
      cache: {
        type: 'boolean',
        description: 'Reuse the outputs of an identical earlier run of this step (default true).',
      },
    },
    allOf: [...catalog.values()].map((contract) => ({
      if: { properties: { uses: { const: contract.name } }, required: ['uses'] },
      then: {
        properties: { with: allowExpressions(contract.with), inputs: inputsSchema(contract) },
        ...(Array.isArray(contract.with.required) && contract.with.required.length > 0 && { required: ['with'] }),
      },
    })),
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Pipewright pipeline',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'steps'],
    properties: {
      name: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9._-]*$',
        [PATTERN_MESSAGE_KEYWORD]: 'must be lowercase letters, digits, ., _ and -, starting with a letter or digit',
        description: 'Name of the pipeline; runs are listed under it.',
      },
      description: { type: 'string' },
      params: {
        type: 'object',
        description: 'Typed parameters, overridable with `--set name=value` or the workflow input.',
        propertyNames: {
          pattern: IDENTIFIER_PATTERN,
          [PATTERN_MESSAGE_KEYWORD]: 'parameter names start with a letter or _ and hold only letters, digits and _',
        },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['type'],
          properties: {
            type: { enum: [...PARAM_TYPES] },
            default: { type: ['string', 'number', 'boolean'] },
            description: { type: 'string' },
            enum: { type: 'array', items: { type: ['string', 'number'] }, minItems: 1 },
            minimum: { type: 'number' },
            maximum: { type: 'number' },
          },
        },
      },
      steps: {
        type: 'array',
        minItems: 1,
        items: step,
        description: 'The steps, in any order; wiring decides when each runs.',
      },
    },
  };
}
