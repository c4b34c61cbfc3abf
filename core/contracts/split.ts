import type { ActivityContract } from '../activity-catalog';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { DATA_STEP_DEFAULTS } from './defaults';

export const SPLIT_CONTRACT = {
  name: 'split',
  summary: 'Splits a dataset into train, validation and test by ratio, seeded, optionally stratified by a column.',
  inputs: { dataset: { kind: 'dataset', required: true, description: 'The dataset to split.' } },
  outputs: {
    train: { type: 'dataset', description: 'The training rows.' },
    validation: { type: 'dataset', description: 'The validation rows.' },
    test: { type: 'dataset', description: 'The test rows.' },
    train_rows: { type: 'number', description: 'Rows in train.' },
    validation_rows: { type: 'number', description: 'Rows in validation.' },
    test_rows: { type: 'number', description: 'Rows in test.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      train: { type: 'number', minimum: 0, maximum: 1, default: 0.8, description: 'Share of rows for training.' },
      validation: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.1,
        description: 'Share of rows for validation.',
      },
      test: { type: 'number', minimum: 0, maximum: 1, default: 0.1, description: 'Share of rows for testing.' },
      seed: { type: 'integer', default: 42, description: 'Same seed, same split.' },
      stratify_by: {
        type: 'string',
        description: 'Keep each value of this column (usually the label) in the same proportion in every split.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
} as const satisfies ActivityContract;

/** The `with:` of a `split` step, as its implementation receives it. */
export type SplitSettings = SettingsOf<typeof SPLIT_CONTRACT.with>;

/** The outputs of a `split` step. */
export type SplitOutputs = OutputsOf<typeof SPLIT_CONTRACT.outputs>;

/** The wired inputs of a `split` step. */
export type SplitInputs = InputsOf<typeof SPLIT_CONTRACT.inputs>;
