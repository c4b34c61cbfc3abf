import type { ActivityContract } from '../activity-catalog';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { DATA_STEP_DEFAULTS } from './defaults';

export const PAD_CONTRACT = {
  name: 'pad',
  summary: 'Truncates and pads token ids to a fixed length or a length bucket, with attention masks.',
  inputs: {
    dataset: { kind: 'dataset', required: true, description: 'Tokenized rows (input_ids).' },
    tokenizer: {
      kind: 'tokenizer',
      required: false,
      description: 'Supplies the padding id and the special tokens to keep when truncating.',
    },
  },
  outputs: {
    dataset: {
      type: 'dataset',
      description: 'Rows with padded input_ids, attention_mask and length (seq2seq: and target_ids, target_mask).',
    },
    truncated: { type: 'number', description: 'Rows that were cut to fit.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      max_length: {
        type: 'integer',
        minimum: 2,
        default: 64,
        description: 'Longest sequence kept, special tokens included.',
      },
      target_max_length: {
        type: 'integer',
        minimum: 2,
        description:
          'seq2seq: longest target kept (its start and end tokens included); targets are cut at their end and padded on their own. Default: max_length.',
      },
      truncation: {
        enum: ['end', 'start'],
        default: 'end',
        description: 'Which end of an over-long sequence is cut; [CLS] and [SEP] are always kept.',
      },
      padding: {
        enum: ['max_length', 'bucket'],
        default: 'max_length',
        description: '`max_length` pads every row to max_length; `bucket` pads to the smallest bucket that fits.',
      },
      buckets: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        minItems: 1,
        uniqueItems: true,
        description: 'Bucket lengths for `padding: bucket` (max_length is always the last bucket).',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
} as const satisfies ActivityContract;

/** The `with:` of a `pad` step, as its implementation receives it. */
export type PadSettings = SettingsOf<typeof PAD_CONTRACT.with>;

/** The outputs of a `pad` step. */
export type PadOutputs = OutputsOf<typeof PAD_CONTRACT.outputs>;

/** The wired inputs of a `pad` step. */
export type PadInputs = InputsOf<typeof PAD_CONTRACT.inputs>;
