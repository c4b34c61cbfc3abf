import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runTrainingGraphFlat } from '../graph/graph-runner';
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

/**
 * Forward, backward and one optimizer update; every tensor made here is freed before it returns.
 * On the native backend forward and backward run as one TensorFlow graph (ml/graph/), elsewhere as
 * TensorFlow.js ops differentiated by TensorFlow.js; both compute the same loss and gradients.
 */
export function trainStep(
  tf: typeof Tf,
  model: EncoderClassifier,
  optimizer: AdamW,
  batch: ClassificationBatch,
  lr: number,
  loss: LossOptions,
  dropoutSeed: number,
): StepOutcome {
  if (graphsAvailable(tf)) return graphStep(tf, model, optimizer, batch, lr, loss, dropoutSeed);
  const { value, grads } = eagerGradients(tf, model, batch, loss, dropoutSeed);
  const gradNorm = optimizer.apply(grads, lr);
  const lossValue = value.dataSync()[0]!;
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  return { loss: lossValue, gradNorm };
}

interface Gradients {
  readonly value: Tf.Scalar;
  /** By parameter name (the model's map keys). */
  readonly grads: Record<string, Tf.Tensor>;
}

function eagerGradients(
  tf: typeof Tf,
  model: EncoderClassifier,
  batch: ClassificationBatch,
  loss: LossOptions,
  dropoutSeed: number,
): Gradients {
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
  return { value, grads: byName };
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

/** The graph computes the loss, the concatenated gradients and their norm; AdamW takes them as they are. */
function graphStep(
  tf: typeof Tf,
  model: EncoderClassifier,
  optimizer: AdamW,
  batch: ClassificationBatch,
  lr: number,
  loss: LossOptions,
  dropoutSeed: number,
): StepOutcome {
  const inputs = tf.tidy(() => ({
    ids: tf.tensor2d(batch.ids, [batch.size, batch.length], 'int32'),
    mask: tf.tensor2d(batch.mask, [batch.size, batch.length], 'float32'),
    ...lossTargets(tf, tf.tensor1d(batch.labels, 'int32'), model.config.classes, loss),
  }));
  const { loss: value, flatGrad, gradNorm } = runTrainingGraphFlat(tf, model, { ...inputs, dropoutSeed });
  tf.dispose(Object.values(inputs));
  try {
    const norm = gradNorm.dataSync()[0]!;
    optimizer.applyFlat(flatGrad, norm, lr);
    return { loss: value.dataSync()[0]!, gradNorm: norm };
  } finally {
    tf.dispose([value, flatGrad, gradNorm]);
  }
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
