import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { publishedSchema } from '../../cli/commands/schema';
import Ajv from 'ajv';
import { BUILTIN_ACTIVITIES } from '../../core/activity-catalog';
import type { JsonSchema } from '../../core/json-schema';
import { PROJECT_ROOT } from '../../worker/config';

test('the published schema file is the one the code generates (run `npm run schema` after changing it)', () => {
  assert.equal(readFileSync(join(PROJECT_ROOT, 'pipelines', 'pipeline.schema.json'), 'utf8'), publishedSchema());
});

test('the published schema compiles under ajv strict mode, names each step kind its inputs, and words every pattern', () => {
  const schema = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'pipelines', 'pipeline.schema.json'), 'utf8'),
  ) as JsonSchema;
  // The one keyword beyond JSON Schema is the one editors show for a failed pattern.
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addKeyword('patternErrorMessage');
  const validate = ajv.compile(schema);
  assert.equal(
    validate({ name: 'x', steps: [{ id: 'a', uses: 'validate', inputs: { modle: '${{ steps.b.outputs.model }}' } }] }),
    false,
  );
  assert.ok(
    validate.errors!.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'modle'),
    'an unknown input name is an error editors can show',
  );
  const branches = (schema.properties as { steps: { items: { allOf: JsonSchema[] } } }).steps.items.allOf;
  for (const contract of BUILTIN_ACTIVITIES) {
    const branch = branches.find((b) => JSON.stringify(b.if).includes(`"const":"${contract.name}"`));
    const inputs = (branch?.then as { properties: { inputs: { properties: object } } }).properties.inputs;
    assert.deepEqual(Object.keys(inputs.properties), Object.keys(contract.inputs), contract.name);
  }
  const unworded: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.pattern === 'string' && typeof record.patternErrorMessage !== 'string') unworded.push(path);
    for (const [key, value] of Object.entries(record)) walk(value, `${path}/${key}`);
  };
  walk(schema, '#');
  assert.deepEqual(unworded, [], 'patterns without a patternErrorMessage');
});

test('the language reference documents every activity, its outputs and every with: key', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'pipeline-language.md'), 'utf8');
  for (const contract of BUILTIN_ACTIVITIES) {
    const section = doc.split(`### \`${contract.name}\``)[1]?.split('\n### ')[0];
    assert.ok(section, `docs/pipeline-language.md has a section for ${contract.name}`);
    for (const key of Object.keys(contract.with.properties as object))
      assert.match(section, new RegExp(`\\| \`${key}\` +\\|`), `${contract.name}.${key}`);
    for (const output of Object.keys(contract.outputs))
      assert.match(section, new RegExp(`\`${output}\``), `${contract.name} output ${output}`);
  }
});

test('example pipelines point editors at the published schema', () => {
  const text = readFileSync(join(PROJECT_ROOT, 'pipelines', 'snips-intent-data.yaml'), 'utf8');
  assert.match(text, /^# yaml-language-server: \$schema=\.\/pipeline\.schema\.json\n/);
});
