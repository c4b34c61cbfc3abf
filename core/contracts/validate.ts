import type { ActivityContract } from '../activity-catalog';
import { PATTERN_MESSAGE_KEYWORD } from '../json-schema';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { METRICS, metricOutputs, TRAIN_TASKS, validatedMetrics } from '../metrics';
import { DATA_STEP_DEFAULTS } from './defaults';

/** `metric op number`, e.g. `f1_macro >= 0.9`; the pattern is the schema's, so typos fail validation. */
export const THRESHOLD_PATTERN = `^\\s*(${METRICS.join('|')})\\s*(>=|>|<=|<)\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*$`;

/** The flags `group_by.match` patterns are compiled with: Unicode-aware, case-sensitive. */
export const GROUP_PATTERN_FLAGS = 'u';

export const VALIDATE_CONTRACT = {
  name: 'validate',
  summary:
    "Evaluates a model checkpoint on a labelled dataset with its task's metrics (classification: accuracy, macro-F1, per-class scores, confusion matrix; token classification: entity precision, recall and F1 overall and per type, tag accuracy; question answering: SQuAD exact match and F1 over questions), checked against thresholds, overall and optionally per group of rows.",
  inputs: {
    model: { kind: 'checkpoint', required: true, description: 'A checkpoint from a train step.' },
    dataset: {
      kind: 'dataset',
      required: true,
      description: 'Padded labelled rows, tokenized and padded like the training data.',
    },
  },
  outputs: {
    metrics: { type: 'report', description: 'All metrics as JSON; `pipewright report` prints it.' },
    ...metricOutputs('Measured', METRICS),
    passed: { type: 'boolean', description: 'True when every threshold holds (true when there are none).' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    properties: {
      thresholds: {
        type: 'array',
        items: {
          type: 'string',
          pattern: THRESHOLD_PATTERN,
          [PATTERN_MESSAGE_KEYWORD]: `must be \`metric op number\` with a metric of the model's task (${TRAIN_TASKS.map(
            (task) => `${task}: ${validatedMetrics(task).join(', ')}`,
          ).join('; ')}) and op >=, >, <= or <, e.g. \`f1_macro >= 0.9\``,
        },
        default: [],
        description:
          "Conditions like `f1_macro >= 0.9` or `loss < 0.5` on the model's task's metrics; `passed` is true when all hold.",
      },
      batch_size: { type: 'integer', minimum: 1, default: 64, description: 'Rows per evaluation batch.' },
      group_by: {
        type: 'object',
        additionalProperties: false,
        required: ['column'],
        properties: {
          column: {
            type: 'string',
            minLength: 1,
            description:
              "The dataset column naming each row's group; tokenize and pad keep the columns of their input, so e.g. a `domain` or `id` column of the loaded data is there.",
          },
          match: {
            type: 'string',
            minLength: 1,
            description:
              "A regular expression (JavaScript syntax, Unicode): a row's group is its first match in the column's text, or the match's first capture group when it has one, e.g. `qa\\d+` on bAbI ids. Rows without a match, like rows with an empty column, form the group `(none)`.",
          },
        },
        description:
          "Also score every group of rows on its own with the task's metrics (e.g. each bAbI task or each domain); the report lists them. Costs one more pass over the data.",
      },
      out_of_scope: {
        type: 'object',
        additionalProperties: false,
        required: ['reject_below'],
        properties: {
          reject_below: {
            type: 'number',
            exclusiveMinimum: 0,
            maximum: 1,
            description:
              'A prediction whose top probability is below this is rejected: predicted out of scope instead of its class.',
          },
          label: {
            type: 'string',
            minLength: 1,
            default: 'out_of_scope',
            description: 'The name reports give the out-of-scope class (rows and rejections).',
          },
        },
        description:
          "Classification: score rows of none of the model's classes (tokenized with `out_of_scope_label`, label_id -1) as one class more. Adds in_scope_accuracy, oos_recall and oos_precision; accuracy, macro-F1, per-class scores and the confusion matrix count the out-of-scope class too, loss only in-scope rows.",
      },
      fail_below: {
        type: 'boolean',
        default: false,
        description: 'Fail the step (and the run) when a threshold does not hold, instead of reporting passed: false.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
} as const satisfies ActivityContract;

/** The `with:` of a `validate` step, as its implementation receives it. */
export type ValidateSettings = SettingsOf<typeof VALIDATE_CONTRACT.with>;

/** The outputs of a `validate` step. */
export type ValidateOutputs = OutputsOf<typeof VALIDATE_CONTRACT.outputs>;

/** The wired inputs of a `validate` step. */
export type ValidateInputs = InputsOf<typeof VALIDATE_CONTRACT.inputs>;
