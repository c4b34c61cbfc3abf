import type { ArtifactRef } from '../../spec/types';
import { readDataset, type Row } from '../../store/arrow-io';
import type { ArtifactStore } from '../../store/artifact-store';
import type { ClassificationBatch } from '../tasks/classification';

/** Rows that cannot be turned into a classification batch. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/**
 * Packs padded rows (input_ids, attention_mask, label_id) into one batch; rows of different widths
 * (bucketed padding) are padded with masked zeros to the widest.
 */
export function classificationBatch(rows: readonly Row[], classes: number): ClassificationBatch {
  const size = rows.length;
  if (size === 0) throw new TrainingDataError('an empty batch');
  let length = 0;
  for (const row of rows) {
    if (!Array.isArray(row.input_ids) || !Array.isArray(row.attention_mask))
      throw new TrainingDataError('rows need input_ids and attention_mask: run tokenize and pad first');
    length = Math.max(length, row.input_ids.length);
  }
  const ids = new Int32Array(size * length);
  const mask = new Int32Array(size * length);
  const labels = new Int32Array(size);
  rows.forEach((row, r) => {
    ids.set(row.input_ids as number[], r * length);
    mask.set(row.attention_mask as number[], r * length);
    const label = row.label_id;
    if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= classes)
      throw new TrainingDataError(
        `label_id ${String(label)} is not a class id in 0..${classes - 1}: tokenize the data with a label column, using the training tokenizer`,
      );
    labels[r] = label;
  });
  return { ids, mask, labels, size, length };
}

/**
 * Streams a dataset as classification batches: one per record batch when `size` is undefined
 * (the `batch` step's files), otherwise regrouped into batches of `size` rows.
 */
export async function* datasetBatches(
  store: ArtifactStore,
  ref: ArtifactRef,
  classes: number,
  size?: number,
): AsyncGenerator<ClassificationBatch> {
  let pending: Row[] = [];
  for await (const chunk of readDataset(store, ref)) {
    if (size === undefined) {
      if (chunk.length > 0) yield classificationBatch(chunk, classes);
      continue;
    }
    for (const row of chunk) {
      pending.push(row);
      if (pending.length === size) {
        yield classificationBatch(pending, classes);
        pending = [];
      }
    }
  }
  if (pending.length > 0) yield classificationBatch(pending, classes);
}
