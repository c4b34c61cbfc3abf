import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { publishedSchema } from '../../cli/commands/schema';
import { BUILTIN_ACTIVITIES } from '../../spec/activity-catalog';
import { PROJECT_ROOT } from '../../worker/config';

test('the published schema file is the one the code generates (run `npm run schema` after changing it)', () => {
  assert.equal(readFileSync(join(PROJECT_ROOT, 'pipelines', 'pipeline.schema.json'), 'utf8'), publishedSchema());
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
