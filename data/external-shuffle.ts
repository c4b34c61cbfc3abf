import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArrowRows, rowsToBatch, type Column, type Row } from '../store/arrow-io';
import { ArrowSink } from '../store/arrow-sink';
import { hash32 } from './seeded-random';

/** Rows held in memory per partition while shuffling; memory stays near this whatever the dataset size. */
export const PARTITION_ROWS = 16_384;
/** Rows buffered for spilling across all partitions together. */
const SPILL_BUFFER_ROWS = 8_192;
const ROW = '__row';

interface Spill {
  readonly path: string;
  readonly out: WriteStream;
  readonly sink: ArrowSink;
  buffer: Row[];
  rows: number;
}

/**
 * A seeded shuffle of a stream of rows with bounded memory: each row gets the key
 * hash(seed, epoch, index); rows are spilled to disk by key range, and each range is sorted in
 * memory, so the concatenation is a uniform random order that depends only on (seed, epoch).
 */
export async function* externalShuffle(
  rows: AsyncIterable<readonly Row[]>,
  totalRows: number,
  columns: readonly Column[],
  seed: number,
  epoch: number,
): AsyncGenerator<Row[]> {
  const partitions = Math.max(1, Math.ceil(totalRows / PARTITION_ROWS));
  const spillChunk = Math.max(64, Math.floor(SPILL_BUFFER_ROWS / partitions));
  const key = (index: number) => hash32(seed, epoch, index);
  const spillColumns: Column[] = [...columns, { name: ROW, type: 'int32' }];
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-shuffle-'));
  try {
    const spills: Spill[] = Array.from({ length: partitions }, (_, p) => {
      const out = createWriteStream(join(dir, `${p}.arrow`));
      return { path: join(dir, `${p}.arrow`), out, sink: new ArrowSink(out, 'stream'), buffer: [], rows: 0 };
    });
    const flush = async (spill: Spill) => {
      if (spill.buffer.length === 0) return;
      const rows = spill.buffer;
      spill.buffer = [];
      await spill.sink.write(rowsToBatch(rows, spillColumns));
    };
    let index = 0;
    for await (const chunk of rows) {
      for (const row of chunk) {
        const spill = spills[Math.floor((key(index) / 2 ** 32) * partitions)]!;
        row[ROW] = index++;
        spill.buffer.push(row);
        spill.rows++;
        if (spill.buffer.length >= spillChunk) await flush(spill);
      }
    }
    for (const spill of spills) {
      await flush(spill);
      await spill.sink.finish();
      await new Promise<void>((resolve, reject) =>
        spill.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    }
    for (const spill of spills) {
      if (spill.rows === 0) continue;
      const part: Row[] = [];
      for await (const chunk of readArrowRows(spill.path, spillColumns)) for (const row of chunk) part.push(row);
      const keys = new Float64Array(part.length);
      part.forEach((row, i) => (keys[i] = key(row[ROW] as number) * 2 ** 21 + ((row[ROW] as number) % 2 ** 21)));
      const order = Array.from(part.keys()).sort((a, b) => keys[a]! - keys[b]!);
      // The __row helper column stays on the objects; writers only write the columns they are given.
      yield order.map((i) => part[i]!);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
