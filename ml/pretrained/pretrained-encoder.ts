import type * as Tf from '@tensorflow/tfjs';
import type { EncoderConfig } from '../models/encoder-config';
import type { EncoderModel } from '../models/encoder-model';
import { PretrainedError, pretrainedParameter, type BertCheckpoint } from './bert-checkpoint';

/** What the task adds to a checkpoint's shape: its classes and how a sequence becomes one vector. */
export interface HeadChoice {
  readonly classes: number;
  readonly pooling: EncoderConfig['pooling'];
  /** Overrides the checkpoint's hidden_dropout_prob. */
  readonly dropout?: number;
}

/** The encoder configuration of a checkpoint with a task's head on it. */
export function pretrainedConfig(checkpoint: BertCheckpoint, head: HeadChoice): EncoderConfig {
  return {
    ...checkpoint.shape,
    classes: head.classes,
    pooling: head.pooling,
    dropout: head.dropout ?? checkpoint.shape.dropout,
  };
}

/** Which of the model's parameters came from the checkpoint and which kept their fresh initial values. */
export interface PretrainedLoad {
  readonly loaded: readonly string[];
  readonly fresh: readonly string[];
}

/**
 * Sets every encoder parameter of `model` (built from pretrainedConfig) to the checkpoint's values.
 * The task's head, and the pooler where the checkpoint has none, keep their initial values; any
 * other parameter the checkpoint lacks, or holds in another shape, is an error naming the tensor.
 */
export function loadPretrainedWeights(tf: typeof Tf, model: EncoderModel, checkpoint: BertCheckpoint): PretrainedLoad {
  const loaded: string[] = [];
  const fresh: string[] = [];
  for (const [name, variable] of model.params) {
    const values = name.startsWith('head/') ? undefined : pretrainedParameter(checkpoint, name);
    if (!values) {
      if (!name.startsWith('head/') && !name.startsWith('pooler/'))
        throw new PretrainedError(`${checkpoint.dir}: nothing in the checkpoint maps to the encoder's ${name}`);
      fresh.push(name);
      continue;
    }
    if (values.shape.length !== variable.shape.length || values.shape.some((d, i) => d !== variable.shape[i]))
      throw new PretrainedError(
        `${checkpoint.dir}: the checkpoint's ${name} has shape [${values.shape.join(', ')}] but the model's is [${variable.shape.join(', ')}]`,
      );
    tf.tidy(() => variable.assign(tf.tensor(values.values, [...values.shape], 'float32')));
    loaded.push(name);
  }
  return { loaded, fresh };
}
