import { classificationMetrics } from '../metrics/classification-metrics';
import { classifierLogits } from '../models/encoder';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { predictRows, type EncoderBatch } from './encoder-objective';
import type { Task } from './task';

/** Sequence classification: one class per text, from the first token's vector or the mean over tokens. */
export const classification: Task = {
  name: 'classification',
  head: { name: 'sequence', logits: classifierLogits },
  classNames: (tokenizer) => tokenizer.labels ?? [],
  missingNamesHint: 'tokenize the training split with its label column',
  columns: ['input_ids', 'attention_mask', 'label_id'],

  /** Packs padded rows (input_ids, attention_mask, label_id) into one batch. */
  batch(rows, classes): EncoderBatch {
    const inputs = paddedInputs(rows);
    const labels = new Int32Array(inputs.size);
    rows.forEach((row, r) => {
      const label = row.label_id;
      if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= classes)
        throw new TrainingDataError(
          `label_id ${String(label)} is not a class id in 0..${classes - 1}: tokenize the data with a label column, using the training tokenizer`,
        );
      labels[r] = label;
    });
    return { ...inputs, labels };
  },

  async evaluate(tf, model, batches, classNames, onBatch) {
    const actual: number[] = [];
    const predicted: number[] = [];
    let lossSum = 0;
    for await (const batch of batches) {
      const rows = predictRows(tf, model, batch);
      for (let i = 0; i < batch.size; i++) {
        actual.push(batch.labels[i]!);
        predicted.push(rows.predicted[i]!);
        lossSum += rows.losses[i]!;
      }
      onBatch?.(actual.length);
    }
    const scores = classificationMetrics(actual, predicted, classNames);
    const loss = actual.length === 0 ? 0 : lossSum / actual.length;
    return {
      metrics: { f1_macro: scores.f1Macro, accuracy: scores.accuracy, loss },
      rows: actual.length,
      perClass: scores.perClass,
      confusion: scores.confusion,
    };
  },

  summarize: ({ rows, metrics: m }) =>
    `${rows} rows: accuracy ${m.accuracy!.toFixed(4)}, macro-F1 ${m.f1_macro!.toFixed(4)}, loss ${m.loss!.toFixed(4)}`,
};
