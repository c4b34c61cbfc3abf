import type { ActivityContract } from '../activity-catalog';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { DATA_STEP_DEFAULTS } from './defaults';

export const BATCH_CONTRACT = {
  name: 'batch',
  summary: 'Shuffles (seeded by seed and epoch) and writes one Arrow record batch per training batch.',
  inputs: { dataset: { kind: 'dataset', required: true, description: 'Padded rows.' } },
  outputs: {
    dataset: { type: 'dataset', description: 'The rows, one record batch per training batch.' },
    batches: { type: 'number', description: 'How many batches were written.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      batch_size: { type: 'integer', minimum: 1, default: 32, description: 'Rows per batch.' },
      shuffle: {
        type: 'boolean',
        default: true,
        description: 'Shuffle the rows (the order derives from seed and epoch).',
      },
      seed: { type: 'integer', default: 42 },
      epoch: { type: 'integer', minimum: 0, default: 0, description: 'Each epoch gets its own order.' },
      drop_last: { type: 'boolean', default: false, description: 'Drop a last batch smaller than batch_size.' },
      bucket_by_length: {
        type: 'boolean',
        default: false,
        description:
          'Group rows of similar length into the same batch (by the `length` column), then shuffle the batches.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
} as const satisfies ActivityContract;

/** The `with:` of a `batch` step, as its implementation receives it. */
export type BatchSettings = SettingsOf<typeof BATCH_CONTRACT.with>;

/** The outputs of a `batch` step. */
export type BatchOutputs = OutputsOf<typeof BATCH_CONTRACT.outputs>;

/** The wired inputs of a `batch` step. */
export type BatchInputs = InputsOf<typeof BATCH_CONTRACT.inputs>;
