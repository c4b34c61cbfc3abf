import type { ActivityContract } from '../activity-catalog';
import { METRICS, metricOutputs, TASK_METRICS } from '../metrics';
import { PATTERN_MESSAGE_KEYWORD } from '../schema';
import { DATA_STEP_DEFAULTS } from './defaults';

/** `metric op number`, e.g. `f1_macro >= 0.9`; the pattern is the schema's, so typos fail validation. */
export const THRESHOLD_PATTERN = `^\\s*(${METRICS.join('|')})\\s*(>=|>|<=|<)\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*$`;

export const VALIDATE_CONTRACT: ActivityContract = {
  name: 'validate',
  summary:
    "Evaluates a model checkpoint on a labelled dataset with its task's metrics (classification: accuracy, macro-F1, per-class scores, confusion matrix; token classification: entity precision, recall and F1 overall and per type, tag accuracy), checked against thresholds.",
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
    ...metricOutputs('Measured'),
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
          [PATTERN_MESSAGE_KEYWORD]: `must be \`metric op number\` with a metric of the model's task (classification: ${TASK_METRICS.classification.join(', ')}; token_classification: ${TASK_METRICS.token_classification.join(', ')}) and op >=, >, <= or <, e.g. \`f1_macro >= 0.9\``,
        },
        default: [],
        description:
          "Conditions like `f1_macro >= 0.9` or `loss < 0.5` on the model's task's metrics; `passed` is true when all hold.",
      },
      batch_size: { type: 'integer', minimum: 1, default: 64, description: 'Rows per evaluation batch.' },
      fail_below: {
        type: 'boolean',
        default: false,
        description: 'Fail the step (and the run) when a threshold does not hold, instead of reporting passed: false.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
};
