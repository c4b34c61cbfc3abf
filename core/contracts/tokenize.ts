import type { ActivityContract } from '../activity-catalog';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { DATA_STEP_DEFAULTS } from './defaults';

/** What the rows a `tokenize` step reads hold. */
export const TOKENIZE_TASKS = ['classification', 'token_classification', 'question_answering', 'seq2seq'] as const;

export const TOKENIZE_CONTRACT = {
  name: 'tokenize',
  summary:
    'Turns text into WordPiece or byte-level BPE token ids with character offsets, and labels or tags into ids; pairs questions with context windows; encodes sources and targets for sequence to sequence.',
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
    dataset: { type: 'dataset', description: 'The encoded rows; the columns depend on the task.' },
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
      task: {
        enum: [...TOKENIZE_TASKS],
        default: 'classification',
        description:
          '`classification`: one text (and label) per row; `token_classification`: pre-split words with one tag each; `question_answering`: question, context and answer; `seq2seq`: a source (a text, or a dialogue as a list of turns) and the target text it should produce.',
      },
      text_column: { type: 'string', default: 'text', description: 'The column holding the text.' },
      label_column: {
        type: 'string',
        default: 'label',
        description: 'The column holding class labels (ignored if absent).',
      },
      out_of_scope_label: {
        type: 'string',
        minLength: 1,
        description:
          "Classification: the label of rows that belong to none of the model's classes (e.g. CLINC150's `oos`). Such rows get label_id -1 and never join the label set; a validate step with `out_of_scope` scores them, a train step refuses them.",
      },
      tokens_column: { type: 'string', default: 'tokens', description: 'Token classification: the list of words.' },
      tags_column: {
        type: 'string',
        default: 'tags',
        description: 'Token classification: one tag per word (e.g. IOB2).',
      },
      question_column: { type: 'string', default: 'question', description: 'Question answering: the question.' },
      context_column: {
        type: 'string',
        default: 'context',
        description: 'Question answering: the passage holding the answer.',
      },
      answers_column: {
        type: 'string',
        default: 'answers',
        description: 'Question answering: `{ text: [...], answer_start: [...] }`, character offsets into the context.',
      },
      source_column: {
        type: 'string',
        default: 'context',
        description: 'seq2seq: the source, a text or a list of turns (oldest first).',
      },
      target_column: { type: 'string', default: 'response', description: 'seq2seq: the text to produce.' },
      context_turns: {
        type: 'integer',
        minimum: 1,
        default: 3,
        description:
          'seq2seq: of a list of turns, the last this many make the source, each followed by the end-of-text token.',
      },
      max_length: { type: 'integer', minimum: 8, default: 384, description: 'Question answering: tokens per window.' },
      stride: {
        type: 'integer',
        minimum: 0,
        default: 128,
        description: 'Question answering: context tokens shared by consecutive windows.',
      },
      algorithm: {
        enum: ['wordpiece', 'byte_level_bpe'],
        default: 'wordpiece',
        description:
          '`wordpiece` as BERT does, or `byte_level_bpe` as GPT-2 does (classification and seq2seq, which needs it: never an unknown token, and generated tokens decode to the exact text).',
      },
      vocab: {
        type: 'string',
        description:
          'A vocabulary to load instead of training one: `pretrained:<checkpoint>` (the vocabulary and casing of the pretrained checkpoint a train step fine-tunes, e.g. `pretrained:all-minilm-l6-v2`), `bert-base-uncased`, or a BERT vocab.txt path relative to the pipeline.',
      },
      merges: {
        type: 'string',
        description: 'byte_level_bpe with a given vocab.json: its merges.txt, relative to the pipeline.',
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
} as const satisfies ActivityContract;

/** The `with:` of a `tokenize` step, as its implementation receives it. */
export type TokenizeSettings = SettingsOf<typeof TOKENIZE_CONTRACT.with>;

/** The outputs of a `tokenize` step. */
export type TokenizeOutputs = OutputsOf<typeof TOKENIZE_CONTRACT.outputs>;

/** The wired inputs of a `tokenize` step. */
export type TokenizeInputs = InputsOf<typeof TOKENIZE_CONTRACT.inputs>;
