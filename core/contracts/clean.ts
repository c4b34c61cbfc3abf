import type { ActivityContract } from '../activity-catalog';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { DATA_STEP_DEFAULTS } from './defaults';

export const CLEAN_CONTRACT = {
  name: 'clean',
  summary:
    'Normalizes text, removes markup and duplicates, keeps question-answering offsets in step; bad rows go to a quarantine dataset with the reason.',
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
      text_column: {
        type: 'string',
        default: 'text',
        description: 'The column holding the text to clean (for question answering the context).',
      },
      label_column: {
        type: 'string',
        default: 'label',
        description: 'The column holding the label; rows without one are quarantined. Ignored if absent.',
      },
      answers_column: {
        type: 'string',
        default: 'answers',
        description:
          'SQuAD-style answers (`text`, `answer_start` in code points) into the text: each must be at its start, and is found again in the cleaned text with its offset updated; rows whose answers are malformed, misplaced or lost to cleaning are quarantined. Ignored if absent.',
      },
      question_column: {
        type: 'string',
        default: 'question',
        description:
          'With answers: the question, cleaned like the text; rows without one are quarantined. Ignored if absent.',
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
        description:
          'Drop rows whose cleaned text and label (with answers: text, question and answers) repeat an earlier row.',
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
} as const satisfies ActivityContract;

/** The `with:` of a `clean` step, as its implementation receives it. */
export type CleanSettings = SettingsOf<typeof CLEAN_CONTRACT.with>;

/** The outputs of a `clean` step. */
export type CleanOutputs = OutputsOf<typeof CLEAN_CONTRACT.outputs>;

/** The wired inputs of a `clean` step. */
export type CleanInputs = InputsOf<typeof CLEAN_CONTRACT.inputs>;
