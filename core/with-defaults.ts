import type { JsonSchema } from './json-schema';

/**
 * The `with:` values with the contract schema's defaults filled in, also inside nested objects
 * (`model: { layers: 4 }` keeps the other model defaults).
 */
export function withDefaults(schema: JsonSchema, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema & { default?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(properties)) {
    const given = values[key];
    if (property.properties !== undefined && (given === undefined || isPlainObject(given))) {
      if (given === undefined && property.default === undefined) continue;
      out[key] = withDefaults(property, (given ?? property.default ?? {}) as Record<string, unknown>);
    } else if (given !== undefined) {
      out[key] = given;
    } else if (property.default !== undefined) {
      out[key] = property.default;
    }
  }
  for (const [key, value] of Object.entries(values)) if (!(key in out)) out[key] = value;
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
