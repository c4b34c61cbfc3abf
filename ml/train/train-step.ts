import type * as Tf from '@tensorflow/tfjs';
import type { EncoderClassifier } from '../models/encoder-classifier';
import type { AdamW } from './adamw';

/** One training batch: token ids, 0/1 attention mask, and class ids. */
export interface ClassificationBatch {
  readonly ids: Int32Array;
  readonly mask: Int32Array;
  readonly labels: Int32Array;
  readonly size: number;
  readonly length: number;
}

export interface LossOptions {
  readonly labelSmoothing: number;
  /** Per-class weights for imbalanced data; undefined weighs all classes equally. */
  readonly classWeights?: readonly number[];
}

export interface StepOutcome {
  readonly loss: number;
  readonly gradNorm: number;
}

/** Cross-entropy of logits against class ids, with optional label smoothing and class weights. */
export function classificationLoss(
  tf: typeof Tf,
  logits: Tf.Tensor2D,
  labels: Tf.Tensor1D,
  classes: number,
  options: LossOptions,
): Tf.Scalar {
  const oneHot = tf.oneHot(labels, classes);
  const weights = options.classWeights ? tf.gather(tf.tensor1d([...options.classWeights]), labels) : undefined;
  return tf.losses.softmaxCrossEntropy(oneHot, logits, weights, options.labelSmoothing);
}

/** Forward, backward and one optimizer update; every tensor made here is freed before it returns. */
export function trainStep(
  tf: typeof Tf,
  model: EncoderClassifier,
  optimizer: AdamW,
  batch: ClassificationBatch,
  lr: number,
  loss: LossOptions,
  dropoutSeed: number,
): StepOutcome {
  const { value, grads } = tf.tidy(() => {
    const ids = tf.tensor2d(batch.ids, [batch.size, batch.length], 'int32');
    const mask = tf.tensor2d(batch.mask, [batch.size, batch.length], 'float32');
    const labels = tf.tensor1d(batch.labels, 'int32');
    return tf.variableGrads(
      () =>
        classificationLoss(
          tf,
          model.logits(ids, mask, { training: true, dropoutSeed }),
          labels,
          model.config.classes,
          loss,
        ),
      [...model.params.values()],
    );
  });
  const byName: Record<string, Tf.Tensor> = {};
  for (const [name, v] of model.params) if (grads[v.name]) byName[name] = grads[v.name]!;
  const gradNorm = optimizer.apply(byName, lr);
  const lossValue = value.dataSync()[0]!;
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  return { loss: lossValue, gradNorm };
}

/** Predicted class ids for a batch, without dropout. */
export function predict(
  tf: typeof Tf,
  model: EncoderClassifier,
  batch: Omit<ClassificationBatch, 'labels'>,
): Int32Array {
  return tf.tidy(() => {
    const ids = tf.tensor2d(batch.ids, [batch.size, batch.length], 'int32');
    const mask = tf.tensor2d(batch.mask, [batch.size, batch.length], 'float32');
    return tf.argMax(model.logits(ids, mask, { training: false }), 1).dataSync() as Int32Array;
  });
}
