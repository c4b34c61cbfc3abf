import type * as Tf from '@tensorflow/tfjs';
import { graphsAvailable, runTrainingGraphFlat } from '../graph/graph-runner';
import type { EncoderModel } from '../models/encoder-model';
import type { Trainable } from '../train/train-step';

/**
 * One batch for an encoder task: token ids and 0/1 attention mask [size, length], and one class
 * id per row of the head's logits (per sequence or per token); a negative id (IGNORED_LABEL)
 * takes no part in the loss.
 */
export interface EncoderBatch {
  readonly ids: Int32Array;
  readonly mask: Int32Array;
  /** Token type ids [size, length] for pairs of texts; absent, all 0. */
  readonly types?: Int32Array;
  /** An encoder-decoder model's target-side input ids [size, targetLength] (teacher forcing). */
  readonly decoderIds?: Int32Array;
  readonly targetLength?: number;
  readonly labels: Int32Array;
  readonly size: number;
  readonly length: number;
}

export interface LossOptions {
  readonly labelSmoothing: number;
  /** Per-class weights for imbalanced data; undefined weighs all classes equally. */
  readonly classWeights?: readonly number[];
}

/**
 * The targets and per-row weights of the loss: softmax cross-entropy against one-hot targets with
 * `labelSmoothing` spread evenly over the classes, each row weighted by its class weight, summed
 * and divided by the number of rows with a non-zero weight. Rows with a negative label weigh 0.
 */
export function lossTargets(
  tf: typeof Tf,
  labels: Tf.Tensor1D,
  classes: number,
  options: LossOptions,
): { targets: Tf.Tensor2D; weights: Tf.Tensor1D } {
  return tf.tidy(() => {
    const smoothing = options.labelSmoothing;
    const labelled = tf.greaterEqual(labels, 0);
    const ids = tf.maximum<Tf.Tensor1D>(labels, tf.scalar(0, 'int32'));
    const targets = tf.add<Tf.Tensor2D>(tf.mul(tf.oneHot(ids, classes), 1 - smoothing), smoothing / classes);
    const perClass = options.classWeights ? tf.gather(tf.tensor1d([...options.classWeights]), ids) : tf.onesLike(ids);
    const perRow = tf.where(labelled, perClass.toFloat(), tf.zerosLike(perClass.toFloat()));
    const nonZero = tf.maximum(tf.sum(tf.notEqual(perRow, 0).toFloat()), 1);
    return { targets, weights: tf.div<Tf.Tensor1D>(perRow, nonZero) };
  });
}

type BatchInputs = Pick<EncoderBatch, 'ids' | 'mask' | 'types' | 'decoderIds' | 'targetLength' | 'size' | 'length'>;

function inputTensors(tf: typeof Tf, batch: BatchInputs) {
  const shape: [number, number] = [batch.size, batch.length];
  return {
    ids: tf.tensor2d(batch.ids, shape, 'int32'),
    mask: tf.tensor2d(batch.mask, shape, 'float32'),
    extra: {
      ...(batch.types && { types: tf.tensor2d(batch.types, shape, 'int32') }),
      ...(batch.decoderIds && {
        decoderIds: tf.tensor2d(batch.decoderIds, [batch.size, batch.targetLength!], 'int32'),
      }),
    },
  };
}

/** The number of classes each row of the model's logits scores for a batch of this length. */
function rowClasses(model: EncoderModel, length: number): number {
  return (model.head.rowClasses?.(model.config, length) as number | undefined) ?? model.config.classes;
}

/**
 * An encoder task's model as the trainer sees it: the weighted cross-entropy of its logits, run
 * eagerly (TensorFlow.js ops, the reference) or as one graph call with the derived backward pass.
 * Its `params` are the ones that train: all but `frozen`, which get no gradient at all.
 */
export function encoderObjective(
  tf: typeof Tf,
  model: EncoderModel,
  options: LossOptions,
  frozen: ReadonlySet<string> = new Set(),
): Trainable<EncoderBatch> {
  const targetsOf = (batch: EncoderBatch) =>
    lossTargets(tf, tf.tensor1d(batch.labels, 'int32'), rowClasses(model, batch.length), options);
  const params = new Map([...model.params].filter(([name]) => !frozen.has(name)));
  const trained = [...params.keys()];
  return {
    params,
    loss: (batch, dropoutSeed) =>
      tf.tidy(() => {
        const { ids, mask, extra } = inputTensors(tf, batch);
        const logits = model.logits(ids, mask, { training: true, dropoutSeed }, extra);
        const { targets, weights } = targetsOf(batch);
        return tf.losses.softmaxCrossEntropy(targets, logits, weights, 0, tf.Reduction.SUM);
      }),
    graphGradients: (batch, dropoutSeed) => {
      if (!graphsAvailable(tf)) return undefined;
      const inputs = tf.tidy(() => {
        const { ids, mask, extra } = inputTensors(tf, batch);
        return { ids, mask, ...extra, ...targetsOf(batch) };
      });
      try {
        return runTrainingGraphFlat(tf, model, { ...inputs, dropoutSeed }, trained);
      } finally {
        tf.dispose(Object.values(inputs));
      }
    },
  };
}

/**
 * The model's prediction for every row of its logits without dropout: the most likely class and,
 * where the row has a label, its cross-entropy (0 where it has none); with `withLogits`, the
 * logits themselves [rows, classes], row-major (a large copy for a vocabulary's worth of classes).
 */
export function predictRows(
  tf: typeof Tf,
  model: EncoderModel,
  batch: EncoderBatch,
  withLogits = false,
): { predicted: Int32Array; losses: Float32Array; logits?: Float32Array } {
  return tf.tidy(() => {
    const { ids, mask, extra } = inputTensors(tf, batch);
    const logits = model.logits(ids, mask, { training: false }, extra);
    const labels = tf.tensor1d(batch.labels, 'int32');
    const target = tf.oneHot(tf.maximum<Tf.Tensor1D>(labels, tf.scalar(0, 'int32')), rowClasses(model, batch.length));
    const perRow = tf.losses.softmaxCrossEntropy(target, logits, undefined, 0, tf.Reduction.NONE);
    const losses = tf.where(tf.greaterEqual(labels, 0), perRow, tf.zerosLike(perRow));
    return {
      predicted: tf.argMax(logits, 1).dataSync() as Int32Array,
      losses: losses.dataSync() as Float32Array,
      ...(withLogits && { logits: logits.dataSync() as Float32Array }),
    };
  });
}

/** The most likely class of every row of the model's logits for unlabelled inputs, without dropout. */
export function predictClasses(tf: typeof Tf, model: EncoderModel, batch: BatchInputs): Int32Array {
  return tf.tidy(() => {
    const { ids, mask, extra } = inputTensors(tf, batch);
    return tf.argMax(model.logits(ids, mask, { training: false }, extra), 1).dataSync() as Int32Array;
  });
}

/** Token id sequences (and their token types) padded to the longest with `padId`, as one batch. */
function packSequences(
  sequences: readonly (readonly number[])[],
  padId: number,
  typeSequences?: readonly (readonly number[])[],
): BatchInputs {
  const size = sequences.length;
  const length = Math.max(1, ...sequences.map((ids) => ids.length));
  const ids = new Int32Array(size * length).fill(padId);
  const mask = new Int32Array(size * length);
  const types = typeSequences && new Int32Array(size * length);
  sequences.forEach((row, r) => {
    ids.set(row, r * length);
    mask.fill(1, r * length, r * length + row.length);
    types?.set(typeSequences![r]!, r * length);
  });
  return { ids, mask, size, length, ...(types && { types }) };
}

/**
 * Class probabilities of every row of the model's logits for token id sequences (each already
 * fitting the model's length), padded to the longest with `padId`: [rows, classes], row-major.
 */
export function probabilities(
  tf: typeof Tf,
  model: EncoderModel,
  sequences: readonly (readonly number[])[],
  padId: number,
): Float32Array {
  return tf.tidy(() => {
    const { ids, mask } = inputTensors(tf, packSequences(sequences, padId));
    return tf.softmax(model.logits(ids, mask, { training: false })).dataSync() as Float32Array;
  });
}

/**
 * The model's logits without dropout for token id sequences with their token types, padded to the
 * longest with `padId`: the values row-major and the padded length.
 */
export function sequenceLogits(
  tf: typeof Tf,
  model: EncoderModel,
  sequences: readonly (readonly number[])[],
  typeSequences: readonly (readonly number[])[],
  padId: number,
): { logits: Float32Array; length: number } {
  const batch = packSequences(sequences, padId, typeSequences);
  return tf.tidy(() => {
    const { ids, mask, extra } = inputTensors(tf, batch);
    return {
      logits: model.logits(ids, mask, { training: false }, extra).dataSync() as Float32Array,
      length: batch.length,
    };
  });
}
