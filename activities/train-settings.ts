import type { TrainSettings } from '../core/contracts/train';
import type { EncoderConfig } from '../ml/models/encoder-config';
import type { LossOptions } from '../ml/tasks/encoder-objective';
import type { AdamWConfig } from '../ml/train/adamw';
import type { LrSchedule } from '../ml/train/lr-schedule';
import { learningRateScales } from '../ml/train/parameter-groups';

/*
 * A train step's `with:`, as its contract spells it (snake_case, YAML's), in the terms of ml/
 * (camelCase options): the one place the two meet. TrainSettings is derived from the contract's
 * schema, so a setting renamed or dropped there fails to compile here.
 */

/** The encoder the settings describe, sized for its vocabulary, sequence length and classes. */
export function encoderConfig(
  settings: TrainSettings,
  vocabSize: number,
  maxLength: number,
  classes: number,
): EncoderConfig {
  const m = settings.model;
  return {
    vocabSize,
    maxLength,
    layers: m.layers,
    hidden: m.hidden,
    heads: m.heads,
    ffn: m.ffn,
    dropout: m.dropout,
    activation: m.activation,
    positional: m.positional,
    pooling: m.pooling,
    classes,
    ...(settings.task === 'seq2seq' && {
      decoderLayers: m.decoder_layers ?? m.layers,
      tiedOutput: m.tie_embeddings,
    }),
  };
}

/** The learning-rate schedule over a run of `totalSteps`. */
export function lrSchedule(settings: TrainSettings, totalSteps: number): LrSchedule {
  return {
    kind: settings.schedule.kind,
    peak: settings.optimizer.learning_rate,
    warmupSteps: settings.schedule.warmup_steps,
    totalSteps,
  };
}

/** How the loss weighs its targets. */
export function lossOptions(settings: TrainSettings): LossOptions {
  return {
    labelSmoothing: settings.label_smoothing,
    ...(settings.class_weights && { classWeights: settings.class_weights }),
  };
}

/** AdamW for the parameters that train (by name) of an encoder with `layers` blocks. */
export function adamWConfig(settings: TrainSettings, trained: readonly string[], layers: number): AdamWConfig {
  const optimizer = settings.optimizer;
  return {
    beta1: optimizer.beta1,
    beta2: optimizer.beta2,
    epsilon: optimizer.epsilon,
    weightDecay: optimizer.weight_decay,
    clipNorm: optimizer.clip_norm,
    lrScales: learningRateScales(trained, {
      layers,
      layerDecay: optimizer.layer_lr_decay,
      headScale: (optimizer.head_learning_rate ?? optimizer.learning_rate) / optimizer.learning_rate,
    }),
  };
}
