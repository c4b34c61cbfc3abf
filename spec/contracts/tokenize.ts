import type { ActivityContract } from '../activity-catalog';
import { DATA_STEP_DEFAULTS } from './defaults';

export const TOKENIZE_CONTRACT: ActivityContract = {
  name: 'tokenize',
  summary: 'Turns text into WordPiece token ids with character offsets, and labels into label ids.',
  inputs: {
    dataset: {
      kind: 'dataset',
      required: true,
      description: 'Rows with a text column (and a label column to encode).',
    },
    tokenizer: {
      kind: 'tokenizer',
      required: false,
      description:
        'A tokenizer from an earlier tokenize step; without one, this step loads `vocab` or trains a vocabulary on its dataset.',
    },
  },
  outputs: {
    dataset: { type: 'dataset', description: 'The rows with input_ids, token_start, token_end (and label_id).' },
    tokenizer: {
      type: 'tokenizer',
      description: 'The tokenizer used, with the label names, for later steps and serving.',
    },
    vocab_size: { type: 'number', description: 'Size of the vocabulary.' },
    unknown_tokens: { type: 'number', description: 'How many tokens were [UNK].' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      text_column: { type: 'string', default: 'text', description: 'The column holding the text.' },
      label_column: {
        type: 'string',
        default: 'label',
        description: 'The column holding class labels (ignored if absent).',
      },
      vocab: {
        type: 'string',
        description:
          'A vocabulary to load instead of training one: `bert-base-uncased`, or a BERT vocab.txt path relative to the pipeline.',
      },
      vocab_size: { type: 'integer', minimum: 10, default: 8000, description: 'Size of a trained vocabulary.' },
      min_frequency: {
        type: 'integer',
        minimum: 1,
        default: 2,
        description: 'Merges seen fewer times are not learned.',
      },
      lowercase: { type: 'boolean', default: true, description: 'Lowercase and strip accents, as uncased BERT does.' },
      add_special_tokens: { type: 'boolean', default: true, description: 'Wrap each text in [CLS] … [SEP].' },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
};
