import { RecordBatchStreamWriter } from 'apache-arrow';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArrowRows, rowsToBatch, type Column, type Row } from '../store/arrow-io';
import { hash32 } from './seeded-random';

/** Rows held in memory per partition while shuffling; memory stays near this whatever the dataset size. */
export const PARTITION_ROWS = 65_536;
const SPILL_CHUNK = 4096;
const ROW = '__row';

interface Spill {
  readonly path: string;
  readonly out: WriteStream;
  readonly writer: RecordBatchStreamWriter;
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
  const key = (index: number) => hash32(seed, epoch, index);
  const spillColumns: Column[] = [...columns, { name: ROW, type: 'int32' }];
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-shuffle-'));
  try {
    const spills: Spill[] = Array.from({ length: partitions }, (_, p) => {
      const writer = new RecordBatchStreamWriter();
      const out = createWriteStream(join(dir, `${p}.arrow`));
      writer.toNodeStream().pipe(out);
      return { path: join(dir, `${p}.arrow`), out, writer, buffer: [], rows: 0 };
    });
    const flush = (spill: Spill) => {
      if (spill.buffer.length === 0) return;
      spill.writer.write(rowsToBatch(spill.buffer, spillColumns));
      spill.buffer = [];
    };
    let index = 0;
    for await (const chunk of rows) {
      for (const row of chunk) {
        const spill = spills[Math.floor((key(index) / 2 ** 32) * partitions)]!;
        spill.buffer.push({ ...row, [ROW]: index++ });
        spill.rows++;
        if (spill.buffer.length >= SPILL_CHUNK) flush(spill);
      }
    }
    await Promise.all(
      spills.map((spill) => {
        flush(spill);
        const done = new Promise<void>((resolve, reject) => {
          spill.out.once('finish', resolve);
          spill.out.once('error', reject);
        });
        spill.writer.finish();
        return done;
      }),
    );
    for (const spill of spills) {
      if (spill.rows === 0) continue;
      const part: Row[] = [];
      for await (const chunk of readArrowRows(spill.path)) part.push(...chunk);
      part.sort((a, b) => key(a[ROW] as number) - key(b[ROW] as number) || (a[ROW] as number) - (b[ROW] as number));
      for (const row of part) delete row[ROW];
      yield part;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
