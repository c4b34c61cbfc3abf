import type { ArtifactRef } from '../../core/artifacts';
import { readDataset, type Row } from '../../store/arrow-io';
import type { ArtifactStore } from '../../store/artifact-store';
import { failureClass } from '../../core/failures';

/** Rows that cannot be turned into a training batch. */
export class TrainingDataError extends failureClass('TrainingDataError') {}

/** Packs rows into one batch of a task's shape; throws TrainingDataError for rows it cannot use. */
export type BatchPacker<B> = (rows: readonly Row[]) => B;

/**
 * Streams a dataset as batches: one per record batch when `size` is undefined (the `batch` step's
 * files), otherwise regrouped into batches of `size` rows; with `keep`, only the rows it accepts.
 */
export async function* datasetBatches<B>(
  store: ArtifactStore,
  ref: ArtifactRef,
  pack: BatchPacker<B>,
  size?: number,
  keep?: (row: Row) => boolean,
): AsyncGenerator<B> {
  let pending: Row[] = [];
  for await (const read of readDataset(store, ref)) {
    const chunk = keep ? read.filter(keep) : read;
    if (size === undefined) {
      if (chunk.length > 0) yield pack(chunk);
      continue;
    }
    for (const row of chunk) {
      pending.push(row);
      if (pending.length === size) {
        yield pack(pending);
        pending = [];
      }
    }
  }
  if (pending.length > 0) yield pack(pending);
}

/**
 * The padded token ids and attention mask of rows, as [rows, length] arrays; rows of different
 * widths (bucketed padding) are padded with masked zeros to the widest.
 */
export function paddedInputs(rows: readonly Row[]): {
  ids: Int32Array;
  mask: Int32Array;
  size: number;
  length: number;
} {
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
  rows.forEach((row, r) => {
    ids.set(row.input_ids as number[], r * length);
    mask.set(row.attention_mask as number[], r * length);
  });
  return { ids, mask, size, length };
}
