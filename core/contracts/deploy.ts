import type { ActivityContract } from '../activity-catalog';
import { PATTERN_MESSAGE_KEYWORD } from '../json-schema';
import type { InputsOf, OutputsOf, SettingsOf } from '../contract-types';
import { METRICS } from '../metrics';
import { DURATION_PATTERN } from '../duration';
import { DATA_STEP_DEFAULTS } from './defaults';

export const DEPLOY_CONTRACT = {
  name: 'deploy',
  runs: 'approval-gate',
  summary:
    'Registers a model version and makes it the served one, if it passed validation and beats the deployed version (champion/challenger).',
  inputs: {
    model: {
      kind: 'checkpoint',
      required: true,
      description: 'The checkpoint to deploy, e.g. a train step’s `model`.',
    },
    tokenizer: { kind: 'tokenizer', required: true, description: 'The tokenizer the model was trained with.' },
    metrics: {
      kind: 'report',
      required: true,
      description: 'A validate step’s report on held-out data: its thresholds and scores gate the deploy.',
    },
  },
  outputs: {
    deployed: { type: 'boolean', description: 'True when this model is now the served version.' },
    version: { type: 'number', description: 'The registry version deployed (0 when nothing was).' },
    decision: { type: 'string', description: 'Why the model was or was not deployed.' },
    challenger: { type: 'number', description: 'This model’s score on the gating metric.' },
    champion: { type: 'number', description: 'The deployed version’s score before this step (-1 when none).' },
  },
  with: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
        [PATTERN_MESSAGE_KEYWORD]: 'must be 1 to 100 letters, digits, ., _ and -, starting with a letter or digit',
        description: 'Model name in the registry; `pipewright serve` serves it under this name.',
      },
      metric: {
        enum: [...METRICS],
        description:
          "The gating metric, read from the metrics report; one the model's task reports. Default: the task's main metric (f1_macro for classification, f1 for token classification).",
      },
      margin: {
        type: 'number',
        minimum: 0,
        default: 0,
        description: 'How much better than the deployed version the challenger must score.',
      },
      force: {
        type: 'boolean',
        default: false,
        description: 'Deploy even if thresholds failed or the deployed version scores better.',
      },
      approval: {
        enum: ['none', 'required'],
        default: 'none',
        description: 'With `required`, the run waits for an approval signal (`pipewright approve`) before deploying.',
      },
      approval_timeout: {
        type: 'string',
        pattern: DURATION_PATTERN,
        [PATTERN_MESSAGE_KEYWORD]: 'must be a duration such as 30m, 2h or 1d',
        default: '24h',
        description: 'How long to wait for approval before the step fails.',
      },
    },
  },
  defaults: DATA_STEP_DEFAULTS,
} as const satisfies ActivityContract;

/** The `with:` of a `deploy` step, as its implementation receives it. */
export type DeploySettings = SettingsOf<typeof DEPLOY_CONTRACT.with>;

/** The outputs of a `deploy` step. */
export type DeployOutputs = OutputsOf<typeof DEPLOY_CONTRACT.outputs>;

/** The wired inputs of a `deploy` step. */
export type DeployInputs = InputsOf<typeof DEPLOY_CONTRACT.inputs>;
