import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runTrainingGraphFlat } from '../graph/graph-runner';
import type { EncoderClassifier } from '../models/encoder-classifier';
import type { Trainable } from '../train/train-step';

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

/**
 * The targets and per-example weights that make a summed softmax cross-entropy equal
 * classificationLoss: label smoothing spreads `labelSmoothing` evenly over the classes; the loss is
 * the weighted sum over examples divided by the number of examples with a non-zero weight.
 */
export function lossTargets(
  tf: typeof Tf,
  labels: Tf.Tensor1D,
  classes: number,
  options: LossOptions,
): { targets: Tf.Tensor2D; weights: Tf.Tensor1D } {
  return tf.tidy(() => {
    const smoothing = options.labelSmoothing;
    const targets = tf.add<Tf.Tensor2D>(tf.mul(tf.oneHot(labels, classes), 1 - smoothing), smoothing / classes);
    const perExample = options.classWeights
      ? tf.gather(tf.tensor1d([...options.classWeights]), labels)
      : tf.ones([labels.size]);
    const nonZero = tf.maximum(tf.sum(tf.notEqual(perExample, 0).toFloat()), 1);
    return { targets, weights: tf.div<Tf.Tensor1D>(perExample, nonZero) };
  });
}

function batchTensors(tf: typeof Tf, batch: Omit<ClassificationBatch, 'labels'>) {
  return {
    ids: tf.tensor2d(batch.ids, [batch.size, batch.length], 'int32'),
    mask: tf.tensor2d(batch.mask, [batch.size, batch.length], 'float32'),
  };
}

/** The classifier as the trainer sees it: its loss on a batch of classes, eagerly or as one graph call. */
export function classificationObjective(
  tf: typeof Tf,
  model: EncoderClassifier,
  options: LossOptions,
): Trainable<ClassificationBatch> {
  return {
    params: model.params,
    loss: (batch, dropoutSeed) =>
      tf.tidy(() => {
        const { ids, mask } = batchTensors(tf, batch);
        const logits = model.logits(ids, mask, { training: true, dropoutSeed });
        return classificationLoss(tf, logits, tf.tensor1d(batch.labels, 'int32'), model.config.classes, options);
      }),
    graphGradients: (batch, dropoutSeed) => {
      if (!graphsAvailable(tf)) return undefined;
      const inputs = tf.tidy(() => ({
        ...batchTensors(tf, batch),
        ...lossTargets(tf, tf.tensor1d(batch.labels, 'int32'), model.config.classes, options),
      }));
      try {
        return runTrainingGraphFlat(tf, model, { ...inputs, dropoutSeed });
      } finally {
        tf.dispose(Object.values(inputs));
      }
    },
  };
}

/** Predicted class ids for a batch, without dropout. */
export function predict(
  tf: typeof Tf,
  model: EncoderClassifier,
  batch: Omit<ClassificationBatch, 'labels'>,
): Int32Array {
  return tf.tidy(() => {
    const { ids, mask } = batchTensors(tf, batch);
    return tf.argMax(model.logits(ids, mask, { training: false }), 1).dataSync() as Int32Array;
  });
}
