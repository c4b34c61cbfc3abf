import type { ActivityContract } from '../activity-catalog';
import { PATTERN_MESSAGE_KEYWORD } from '../json-schema';
import type { SettingsOf } from '../contract-types';
import { metricOutputs, TASK_METRICS, TRAIN_TASKS, TRAINING_METRICS } from '../metrics';

const taskList = (task: keyof typeof TASK_METRICS) => TASK_METRICS[task].join(', ');

/** Retries of the epoch loop's short activities: a second apart, doubling up to 100 s. */
const retryUpTo = (maximumAttempts: number) =>
  ({ maximumAttempts, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 100_000 }) as const;

/** How a seq2seq model generates unless `generation` says otherwise (also for checkpoints that keep no setting). */
export const GENERATION_DEFAULTS = {
  max_new_tokens: 40,
  min_new_tokens: 1,
  beams: 1,
  length_penalty: 1,
  no_repeat_ngram: 0,
} as const;

/** How question-answering answers are read unless `answers` says otherwise (also for checkpoints that keep no setting). */
export const ANSWER_DEFAULTS = { n_best: 20, max_answer_length: 30 } as const;

export const TRAIN_CONTRACT = {
  name: 'train',
  runs: 'epochs',
  summary:
    'Trains a transformer for a task (text classification, token classification, question answering, sequence to sequence) as a durable epoch loop (train → checkpoint → validate per epoch) with early stopping and exact resume.',
  inputs: {
    train: {
      kind: 'dataset',
      required: true,
      description:
        'Padded training rows: input_ids, attention_mask and label_id (classification) or tag_ids, word_ids and word_tag_ids (token classification).',
    },
    validation: {
      kind: 'dataset',
      required: true,
      description: 'Padded validation rows, evaluated after every epoch.',
    },
    tokenizer: {
      kind: 'tokenizer',
      required: true,
      description: 'The tokenizer the rows were encoded with: vocabulary size and label or tag names.',
    },
  },
  outputs: {
    model: { type: 'checkpoint', description: 'The best checkpoint by `monitor`.' },
    last: { type: 'checkpoint', description: 'The checkpoint of the last epoch trained.' },
    metrics: { type: 'report', description: 'Validation metrics of the best epoch (JSON).' },
    ...metricOutputs("The best epoch's validation", TRAINING_METRICS),
    best_epoch: { type: 'number', description: 'The epoch (1-based) whose checkpoint is `model`.' },
    epochs: { type: 'number', description: 'Epochs trained.' },
    stopped_early: { type: 'boolean', description: 'True when early stopping or a stop signal ended training.' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      task: {
        enum: [...TRAIN_TASKS],
        default: 'classification',
        description:
          'What the model learns, as the tokenize step encoded it: `classification` (one label per text), `token_classification` (one tag per word, e.g. IOB2 entities), `question_answering` (the answer span in a context) or `seq2seq` (a target text from a source text, e.g. a reply to a dialogue: an encoder-decoder transformer).',
      },
      epochs: { type: 'integer', minimum: 1, default: 3, description: 'Epochs to train at most.' },
      batch_size: { type: 'integer', minimum: 1, default: 32, description: 'Rows per training batch.' },
      seed: {
        type: 'integer',
        default: 42,
        description: 'Seeds the initial weights, the shuffle of every epoch and the dropout masks.',
      },
      model: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description:
          'The transformer encoder: its shape, or a pretrained checkpoint to fine-tune, whose config fixes the shape.',
        properties: {
          pretrained: {
            type: 'string',
            minLength: 1,
            description:
              'A pretrained checkpoint to fine-tune: a catalog name (`all-minilm-l6-v2`) or a Hugging Face BERT checkpoint directory (config.json, model.safetensors, tokenizer.json or vocab.txt) relative to the pipeline. Its config.json fixes layers, hidden, heads, ffn, activation and positions (do not set them); the tokenize step must use `vocab: pretrained:<the same>`.',
          },
          layers: { type: 'integer', minimum: 1, default: 2, description: 'Encoder blocks.' },
          hidden: { type: 'integer', minimum: 1, default: 128, description: 'Hidden size (divisible by heads).' },
          heads: { type: 'integer', minimum: 1, default: 4, description: 'Attention heads.' },
          ffn: { type: 'integer', minimum: 1, default: 256, description: 'Feed-forward inner size.' },
          dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
          activation: { enum: ['gelu', 'relu'], default: 'gelu', description: 'Feed-forward activation.' },
          positional: {
            enum: ['sinusoidal', 'learned'],
            default: 'sinusoidal',
            description: 'Position encoding.',
          },
          decoder_layers: {
            type: 'integer',
            minimum: 1,
            description:
              'seq2seq: decoder blocks (masked self-attention, cross-attention, feed-forward). Default: layers.',
          },
          tie_embeddings: {
            type: 'boolean',
            default: true,
            description:
              'seq2seq: the output projection is the transposed token embedding (encoder and decoder always share the embedding) instead of a matrix of its own.',
          },
          pooling: {
            enum: ['first', 'mean'],
            default: 'first',
            description:
              'Classification: how the sequence becomes one vector, the first token or the mean over real tokens.',
          },
        },
      },
      freeze: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'string',
          pattern: '^(embeddings|pooler|layers\\.\\d+(-\\d+)?)$',
          [PATTERN_MESSAGE_KEYWORD]: 'must be `embeddings`, `pooler`, `layers.<n>` or a range `layers.<a>-<b>`',
        },
        description:
          'Parameter groups that do not train (no gradients, no optimizer state): `embeddings`, `pooler`, `layers.<n>` or a range `layers.<a>-<b>` (0-based, inclusive). Usually lower layers of a pretrained model.',
      },
      unfreeze_at_epoch: {
        type: 'integer',
        minimum: 2,
        description:
          'Gradual unfreezing: from this epoch (1-based) on, the frozen groups train too. Unset: they stay frozen.',
      },
      optimizer: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Adam with decoupled weight decay (AdamW); weight_decay 0 is plain Adam.',
        properties: {
          learning_rate: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Peak learning rate.' },
          weight_decay: { type: 'number', minimum: 0, default: 0.01 },
          beta1: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
          beta2: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999 },
          epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-8 },
          clip_norm: {
            type: 'number',
            minimum: 0,
            default: 1,
            description: 'Clip gradients to this global norm; 0 turns clipping off.',
          },
          layer_lr_decay: {
            type: 'number',
            exclusiveMinimum: 0,
            maximum: 1,
            default: 1,
            description:
              'Layer-wise learning-rate decay for fine-tuning: of L blocks, block l trains at learning_rate · decay^(L − l), the embeddings at decay^(L + 1); 1 turns it off.',
          },
          head_learning_rate: {
            type: 'number',
            exclusiveMinimum: 0,
            description:
              "The head's peak learning rate (e.g. higher than a fine-tuned encoder's); default: learning_rate.",
          },
        },
      },
      schedule: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Learning-rate schedule: linear warmup, then constant, linear or cosine decay to 0.',
        properties: {
          kind: { enum: ['constant', 'linear', 'cosine'], default: 'linear' },
          warmup_steps: { type: 'integer', minimum: 0, default: 100 },
        },
      },
      label_smoothing: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
      class_weights: {
        type: 'array',
        items: { type: 'number', minimum: 0 },
        minItems: 1,
        description: 'Loss weight per class id, for imbalanced data; one number per label (or tag).',
      },
      monitor: {
        enum: [...TRAINING_METRICS],
        description: `Validation metric that picks the best model and drives early stopping; one the task reports (classification: ${taskList('classification')}; token_classification: ${taskList('token_classification')}; question_answering: ${taskList('question_answering')}; seq2seq: ${taskList('seq2seq')}). Default: f1_macro for classification, perplexity for seq2seq, f1 for the others.`,
      },
      answers: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description:
          'Question answering: how answers are read from the span scores, in validation and when served (the checkpoints keep it).',
        properties: {
          n_best: {
            type: 'integer',
            minimum: 1,
            default: ANSWER_DEFAULTS.n_best,
            description: 'Start and end positions paired per window, and answers kept per question.',
          },
          max_answer_length: {
            type: 'integer',
            minimum: 1,
            default: ANSWER_DEFAULTS.max_answer_length,
            description: 'The longest answer, in tokens.',
          },
        },
      },
      generation: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description:
          'seq2seq: how replies are generated, in validation (BLEU, chrF, distinct-n) and when served (the checkpoints keep it).',
        properties: {
          max_new_tokens: {
            type: 'integer',
            minimum: 1,
            default: GENERATION_DEFAULTS.max_new_tokens,
            description: 'The longest reply, in tokens (fewer when the model runs out of positions).',
          },
          min_new_tokens: {
            type: 'integer',
            minimum: 0,
            default: GENERATION_DEFAULTS.min_new_tokens,
            description: 'The end-of-text token is not chosen before this many tokens: 1 means a reply is never empty.',
          },
          beams: {
            type: 'integer',
            minimum: 1,
            maximum: 16,
            default: GENERATION_DEFAULTS.beams,
            description:
              'Beam search over this many hypotheses per reply in validation and `:predict` (1: greedy). Chat completions decode greedily or sample, as the request asks.',
          },
          length_penalty: {
            type: 'number',
            default: GENERATION_DEFAULTS.length_penalty,
            description:
              'Beam search ranks a finished reply by its summed token log-probabilities over its length to this power: above 0 favours longer replies, 0 ranks by the sum alone.',
          },
          no_repeat_ngram: {
            type: 'integer',
            minimum: 0,
            default: GENERATION_DEFAULTS.no_repeat_ngram,
            description:
              'No n-gram of this many tokens appears twice in a reply, however it is decoded (0: no such rule). 3 is a common cure for looping replies.',
          },
        },
      },
      early_stopping: {
        type: 'object',
        additionalProperties: false,
        description: 'Stop when `monitor` has not improved by min_delta for `patience` epochs.',
        properties: {
          patience: { type: 'integer', minimum: 1, default: 2 },
          min_delta: { type: 'number', minimum: 0, default: 0 },
        },
      },
      checkpoint_every: {
        type: 'integer',
        minimum: 0,
        default: 100,
        description: 'Also checkpoint every this many steps inside an epoch (0: only at epoch ends).',
      },
      keep_last: { type: 'integer', minimum: 1, default: 2, description: 'Epoch checkpoints kept, newest first.' },
      keep_best: { type: 'integer', minimum: 1, default: 1, description: 'Epoch checkpoints kept, best first.' },
      history_limit: {
        type: 'integer',
        minimum: 50,
        default: 2000,
        description:
          'The training workflow continues as new once its event history is this long (or Temporal suggests it).',
      },
    },
  },
  defaults: {
    queue: 'gpu',
    retry: { maximumAttempts: 5, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 },
    timeouts: { startToCloseMs: 6 * 60 * 60_000, heartbeatMs: 12_000 },
  },
  loopActivities: {
    batch: { retry: retryUpTo(3), timeouts: { heartbeatMs: 60_000 } },
    validate: { retry: retryUpTo(3), timeouts: { heartbeatMs: 60_000 } },
    checkpoint: { retry: retryUpTo(5), timeouts: { startToCloseMs: 10 * 60_000 } },
  },
} as const satisfies ActivityContract;

/** The `with:` of a `train` step after defaults, as the YAML spells it. */
export type TrainSettings = SettingsOf<typeof TRAIN_CONTRACT.with>;
