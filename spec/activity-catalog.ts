import type { ArtifactKind, PlanRetry, PlanTimeouts, Queue, ValueType } from './types';

export type JsonSchema = { readonly [key: string]: unknown };

/** What the validator and compiler know about an activity: its wiring, its `with:` schema, its defaults. */
export interface ActivityContract {
  readonly name: string;
  readonly summary: string;
  readonly inputs: Readonly<
    Record<string, { readonly kind: ArtifactKind; readonly required: boolean; readonly description: string }>
  >;
  readonly outputs: Readonly<Record<string, { readonly type: ValueType; readonly description: string }>>;
  /** JSON Schema of the step's `with:` object. */
  readonly with: JsonSchema;
  readonly defaults: {
    readonly queue: Queue;
    readonly retry: PlanRetry;
    readonly timeouts: PlanTimeouts;
  };
}

export type ActivityCatalog = ReadonlyMap<string, ActivityContract>;

const DATA_STEP_DEFAULTS: ActivityContract['defaults'] = {
  queue: 'cpu',
  retry: { maximumAttempts: 3, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 },
  timeouts: { startToCloseMs: 30 * 60_000, heartbeatMs: 60_000 },
};

const LOAD: ActivityContract = {
  name: 'load',
  summary: 'Reads a CSV, TSV, JSON Lines, JSON array or Arrow file into an Arrow dataset.',
  inputs: {},
  outputs: {
    dataset: { type: 'dataset', description: 'The loaded rows as an Arrow IPC file.' },
    rows: { type: 'number', description: 'How many rows were loaded.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: "Source file, relative to the pipeline file's folder." },
      format: {
        enum: ['auto', 'jsonl', 'json', 'csv', 'tsv', 'arrow'],
        default: 'auto',
        description: 'File format; `auto` picks it from the file extension.',
      },
      columns: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        description: 'Output column → source field, e.g. `{ text: utterance, label: intent }`. Default: every field.',
      },
      limit: { type: 'integer', minimum: 1, description: 'Read at most this many rows.' },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
};

const CLEAN: ActivityContract = {
  name: 'clean',
  summary: 'Normalizes text, removes markup and duplicates; bad rows go to a quarantine dataset with the reason.',
  inputs: { dataset: { kind: 'dataset', required: true, description: 'The dataset to clean.' } },
  outputs: {
    dataset: { type: 'dataset', description: 'The rows that passed.' },
    quarantine: { type: 'dataset', description: 'Rejected rows with their source row number and reason.' },
    rows: { type: 'number', description: 'Rows kept.' },
    quarantined: { type: 'number', description: 'Rows rejected.' },
    duplicates: { type: 'number', description: 'Duplicate rows removed.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      text_column: { type: 'string', default: 'text', description: 'The column holding the text to clean.' },
      label_column: {
        type: 'string',
        default: 'label',
        description: 'The column holding the label; rows without one are quarantined. Ignored if absent.',
      },
      normalize: { enum: ['NFKC', 'NFC', 'none'], default: 'NFKC', description: 'Unicode normalization form.' },
      lowercase: { type: 'boolean', default: false },
      strip_html: { type: 'boolean', default: true, description: 'Remove HTML tags and decode entities.' },
      strip_control: { type: 'boolean', default: true, description: 'Remove control and zero-width characters.' },
      collapse_whitespace: { type: 'boolean', default: true },
      mask_urls: { type: 'boolean', default: false, description: 'Replace URLs with `<url>`.' },
      mask_emails: { type: 'boolean', default: false, description: 'Replace e-mail addresses with `<email>`.' },
      mask_numbers: { type: 'boolean', default: false, description: 'Replace numbers with `<num>`.' },
      drop_empty: {
        type: 'boolean',
        default: true,
        description: 'Quarantine rows whose text is empty after cleaning.',
      },
      dedupe: {
        type: 'boolean',
        default: true,
        description: 'Drop rows whose cleaned text and label repeat an earlier row.',
      },
      min_length: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description: 'Quarantine texts shorter than this (characters).',
      },
      max_length: { type: 'integer', minimum: 1, description: 'Quarantine texts longer than this (characters).' },
      labels: {
        type: 'array',
        items: { type: 'string' },
        uniqueItems: true,
        description: 'Allowed labels; rows with any other label are quarantined.',
      },
      max_bad_fraction: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.05,
        description: 'Fail the step when more than this fraction of rows is quarantined.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
};

/** The activities every Pipewright worker provides. */
export const BUILTIN_ACTIVITIES: readonly ActivityContract[] = [LOAD, CLEAN];

/** Builds a catalog from contracts; workers may add their own activities to the built-ins. */
export function createCatalog(extra: readonly ActivityContract[] = []): ActivityCatalog {
  return new Map([...BUILTIN_ACTIVITIES, ...extra].map((contract) => [contract.name, contract]));
}
