import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_ACTIVITIES } from '../../core/activity-catalog';
import type { JsonSchema } from '../../core/json-schema';
import type { LoadSettings } from '../../core/contracts/load';
import type { TrainSettings } from '../../core/contracts/train';
import { withDefaults } from '../../core/with-defaults';

/** Never called: it compiles only while the settings types follow the contracts' schemas (the suite builds with tsc). */
export function settingsTypesFollowTheSchemas(load: LoadSettings, train: TrainSettings): unknown[] {
  const typed: [string, 'auto' | 'jsonl' | 'json' | 'csv' | 'tsv' | 'arrow', number, number | undefined] = [
    load.path,
    load.format,
    load.max_record_bytes,
    load.limit,
  ];
  const nested: [number, 'constant' | 'linear' | 'cosine', string | undefined] = [
    train.model.layers,
    train.schedule.kind,
    train.model.pretrained,
  ];
  // @ts-expect-error a setting the schema does not declare
  void load.max_record_byte;
  // @ts-expect-error a setting without a default may be absent
  const limit: number = load.limit;
  // @ts-expect-error an enum admits only its values
  const format: 'xml' = load.format;
  return [typed, nested, limit, format];
}

test('every setting with a default, also nested, is present after withDefaults, as the settings types promise', () => {
  const missing: string[] = [];
  const walk = (schema: JsonSchema, values: Readonly<Record<string, unknown>>, at: string) => {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const [key, property] of Object.entries(properties)) {
      if (property.default === undefined) continue;
      if (!(key in values)) missing.push(`${at}${key}`);
      else if (property.properties) walk(property, values[key] as Readonly<Record<string, unknown>>, `${at}${key}.`);
    }
  };
  for (const contract of BUILTIN_ACTIVITIES) walk(contract.with, withDefaults(contract.with, {}), `${contract.name}.`);
  assert.deepEqual(missing, []);
  assert.equal(withDefaults(BUILTIN_ACTIVITIES.find((c) => c.name === 'train')!.with, {}).epochs, 3);
});
