/** A JSON Schema as plain data. */
export type JsonSchema = { readonly [key: string]: unknown };

/**
 * The message to show when `pattern` fails, instead of the raw regex: not JSON Schema, but the
 * keyword editors' YAML and JSON language servers show; our own ajv declares it (strict mode).
 */
export const PATTERN_MESSAGE_KEYWORD = 'patternErrorMessage';
