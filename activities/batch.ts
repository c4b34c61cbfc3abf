import { externalShuffle } from '../data/external-shuffle';
import { hash32, seededRandom, shuffleInPlace } from '../data/seeded-random';
import { readDataset, type Column, type Row } from '../store/arrow-io';
import type { BatchOutputs, BatchSettings, BatchInputs } from '../core/contracts/batch';
import { InvalidStepInput, type StepImplementation } from './define-step';
import { writeDataset } from '../store/arrow-io';

/** Bumped whenever the output of `batch` for the same input could change. */
export const BATCH_VERSION = '1';

/** Cuts a stream of row chunks into batches of exactly `size` rows (the last may be short). */
async function* rebatch(chunks: AsyncIterable<readonly Row[]>, size: number, dropLast: boolean): AsyncGenerator<Row[]> {
  let pending: Row[] = [];
  for await (const chunk of chunks) {
    for (const row of chunk) {
      pending.push(row);
      if (pending.length === size) {
        yield pending;
        pending = [];
      }
    }
  }
  if (pending.length > 0 && !dropLast) yield pending;
}

/** Within each chunk, groups rows of similar `length` into batches, then shuffles the batch order. */
async function* bucketByLength(
  chunks: AsyncIterable<readonly Row[]>,
  size: number,
  seed: number,
  epoch: number,
): AsyncGenerator<Row[]> {
  let carry: Row[] = [];
  let part = 0;
  for await (const chunk of chunks) {
    const pool = [...carry, ...chunk].sort((a, b) => (a.length as number) - (b.length as number));
    const whole = Math.floor(pool.length / size) * size;
    carry = pool.slice(whole);
    const batches: Row[][] = [];
    for (let i = 0; i < whole; i += size) batches.push(pool.slice(i, i + size));
    shuffleInPlace(batches, seededRandom(hash32(seed, epoch, part++)));
    yield* batches;
  }
  if (carry.length > 0) yield carry;
}

/** `batch`: seeded shuffle with bounded memory, then one Arrow record batch per training batch. */
export const batch: StepImplementation<BatchSettings, BatchOutputs, BatchInputs> = async (
  input,
  { deps, progress, provenance },
) => {
  const options = input.with;
  const source = input.inputs.dataset;
  const columns = (source.schema ?? []) as Column[];
  if (options.bucket_by_length && !columns.some((c) => c.name === 'length')) {
    throw new InvalidStepInput('bucket_by_length needs the `length` column that pad writes: run pad before batch');
  }
  let rowsSeen = 0;
  async function* counted(): AsyncGenerator<Row[]> {
    for await (const chunk of readDataset(deps.store, source)) {
      rowsSeen += chunk.length;
      progress({ rows: rowsSeen });
      yield chunk;
    }
  }
  const ordered = options.shuffle
    ? externalShuffle(counted(), source.rows ?? 0, columns, options.seed, options.epoch)
    : counted();
  const grouped = options.bucket_by_length
    ? bucketByLength(ordered, options.batch_size, options.seed, options.epoch)
    : ordered;
  let batches = 0;
  async function* output(): AsyncGenerator<Row[]> {
    for await (const b of rebatch(grouped, options.batch_size, options.drop_last)) {
      batches++;
      yield b;
    }
  }
  const dataset = await writeDataset(
    deps.store,
    {
      kind: 'dataset',
      meta: { batch_size: options.batch_size, seed: options.seed, epoch: options.epoch, shuffled: options.shuffle },
      provenance: provenance([source.sha256]),
    },
    output(),
    columns,
  );
  return {
    outputs: { dataset, batches },
    summary: `${dataset.rows} rows in ${batches} batches of ${options.batch_size}${options.shuffle ? ` (seed ${options.seed}, epoch ${options.epoch})` : ''}`,
  };
};
