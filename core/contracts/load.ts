import type { ActivityContract } from '../activity-catalog';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { DATA_STEP_DEFAULTS } from './defaults';

/** Source file formats `load` reads. */
export const SOURCE_FORMATS = ['jsonl', 'json', 'csv', 'tsv', 'arrow'] as const;

export const LOAD_CONTRACT = {
  name: 'load',
  summary: 'Reads a CSV, TSV, JSON Lines, JSON array or Arrow file into an Arrow dataset.',
  inputs: {},
  outputs: {
    dataset: { type: 'dataset', description: 'The loaded rows as an Arrow IPC file.' },
    rows: { type: 'number', description: 'How many rows were loaded.' },
    skipped: { type: 'number', description: 'How many rows `where` left out.' },
    quarantine: {
      type: 'dataset',
      description: 'Records that could not be read, with their line and reason (empty when all could).',
    },
    quarantined: { type: 'number', description: 'How many records were quarantined.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: "Source file, relative to the pipeline file's folder." },
      format: {
        enum: ['auto', ...SOURCE_FORMATS],
        default: 'auto',
        description: 'File format; `auto` picks it from the file extension.',
      },
      columns: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        description: 'Output column → source field, e.g. `{ text: utterance, label: intent }`. Default: every field.',
      },
      where: {
        type: 'object',
        minProperties: 1,
        description:
          'Keep only the rows whose source fields equal these values (JSON equality), e.g. `{ answer_start_source: [unique_match] }`; the others are counted in `skipped`.',
      },
      limit: { type: 'integer', minimum: 1, description: 'Read at most this many rows (after `where`).' },
      on_bad_record: {
        enum: ['quarantine', 'fail'],
        default: 'quarantine',
        description:
          'A record that cannot be read (malformed JSON, not UTF-8, a CSV row with the wrong number of fields, a mapped field it lacks): set it aside in `quarantine` with its line and reason, or fail the step at once.',
      },
      max_record_bytes: {
        type: 'integer',
        minimum: 1,
        default: 1_048_576,
        description:
          'The longest line a JSON Lines, CSV or TSV record may have, in bytes; a longer one is handled as `on_bad_record` says (quarantined by default) without being held in memory.',
      },
      max_bad_fraction: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.05,
        description: 'Fail the step when more than this fraction of the records read is quarantined.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
} as const satisfies ActivityContract;

/** The `with:` of a `load` step, as its implementation receives it. */
export type LoadSettings = SettingsOf<typeof LOAD_CONTRACT.with>;

/** The outputs of a `load` step. */
export type LoadOutputs = OutputsOf<typeof LOAD_CONTRACT.outputs>;

/** The wired inputs of a `load` step. */
export type LoadInputs = InputsOf<typeof LOAD_CONTRACT.inputs>;
