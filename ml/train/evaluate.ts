import type * as Tf from '@tensorflow/tfjs';
import { classificationMetrics, type ClassificationMetrics } from '../metrics';
import type { EncoderClassifier } from '../models/encoder-classifier';
import type { ClassificationBatch } from '../tasks/classification';

/** Classification metrics plus the mean cross-entropy. */
export interface Evaluation extends ClassificationMetrics {
  readonly loss: number;
  readonly rows: number;
}

/** Runs the model without dropout over labelled batches and scores its predictions. */
export async function evaluateClassifier(
  tf: typeof Tf,
  model: EncoderClassifier,
  batches: AsyncIterable<ClassificationBatch>,
  labels: readonly string[],
  onBatch?: (rows: number) => void,
): Promise<Evaluation> {
  const actual: number[] = [];
  const predicted: number[] = [];
  let lossSum = 0;
  for await (const batch of batches) {
    const [classes, losses] = tf.tidy(() => {
      const ids = tf.tensor2d(batch.ids, [batch.size, batch.length], 'int32');
      const mask = tf.tensor2d(batch.mask, [batch.size, batch.length], 'float32');
      const logits = model.logits(ids, mask, { training: false });
      const target = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), model.config.classes);
      const perRow = tf.losses.softmaxCrossEntropy(target, logits, undefined, 0, tf.Reduction.NONE);
      return [tf.argMax(logits, 1).dataSync(), perRow.dataSync()];
    });
    for (let i = 0; i < batch.size; i++) {
      actual.push(batch.labels[i]!);
      predicted.push(classes[i]!);
      lossSum += losses[i]!;
    }
    onBatch?.(actual.length);
  }
  const metrics = classificationMetrics(actual, predicted, labels);
  return { ...metrics, loss: actual.length === 0 ? 0 : lossSum / actual.length, rows: actual.length };
}
