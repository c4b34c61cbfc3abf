import {
  Bool,
  Data,
  Field,
  Float64,
  Int32,
  List,
  RecordBatchReader,
  Table,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type DataType,
  type RecordBatch,
  type Vector,
} from 'apache-arrow';
import { open } from 'node:fs/promises';
import type { ArtifactRef } from '../core/artifacts';
import type { ArtifactDescription, ArtifactStore } from './artifact-store';
import { ArrowSink } from './arrow-sink';
import { failureClass } from '../core/failures';

export type Row = Record<string, unknown>;

/** Column types a dataset can hold; anything else is stored as JSON text. */
export type ColumnType =
  'utf8' | 'int32' | 'float64' | 'bool' | 'list<utf8>' | 'list<int32>' | 'list<float64>' | 'json';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

/** A row whose value does not fit the column type the dataset settled on. */
export class DatasetSchemaError extends failureClass('DatasetSchemaError') {}

/** Picks a column type per field from a sample of rows, in first-seen field order. */
export function inferColumns(rows: readonly Row[]): Column[] {
  const names: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!names.includes(key)) names.push(key);
  return names.map((name) => ({ name, type: inferType(rows.map((row) => row[name])) }));
}

function inferType(values: readonly unknown[]): ColumnType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return 'utf8';
  if (present.every((v) => typeof v === 'string')) return 'utf8';
  if (present.every((v) => typeof v === 'boolean')) return 'bool';
  if (present.every((v) => typeof v === 'number')) return present.every(isInt32) ? 'int32' : 'float64';
  if (present.every(Array.isArray)) {
    const items = (present as unknown[][]).flat();
    if (items.every((v) => typeof v === 'string')) return 'list<utf8>';
    if (items.every(isInt32)) return 'list<int32>';
    if (items.every((v) => typeof v === 'number')) return 'list<float64>';
  }
  return 'json';
}

function isInt32(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31;
}

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'utf8':
    case 'json':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'list<utf8>':
      return new List(new Field('item', new Utf8(), true));
    case 'list<int32>':
      return new List(new Field('item', new Int32(), true));
    case 'list<float64>':
      return new List(new Field('item', new Float64(), true));
  }
}

function fits(type: ColumnType, value: unknown): boolean {
  if (value === null || value === undefined || type === 'json') return true;
  switch (type) {
    case 'utf8':
      return typeof value === 'string';
    case 'int32':
      return isInt32(value);
    case 'float64':
      return typeof value === 'number';
    case 'bool':
      return typeof value === 'boolean';
    case 'list<utf8>':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'list<int32>':
      return Array.isArray(value) && value.every(isInt32);
    case 'list<float64>':
      return Array.isArray(value) && value.every((v) => typeof v === 'number');
  }
}

/** One Arrow record batch from rows, checking each value against its column type. */
export function rowsToBatch(rows: readonly Row[], columns: readonly Column[], firstRowNumber = 1): RecordBatch {
  const vectors: Record<string, Vector> = {};
  for (const column of columns) {
    const values = rows.map((row, i) => {
      const value = row[column.name];
      if (!fits(column.type, value)) {
        throw new DatasetSchemaError(
          `row ${firstRowNumber + i}: column "${column.name}" holds ${JSON.stringify(value)}, but earlier rows made it ${column.type}`,
        );
      }
      if (value === undefined) return null;
      return column.type === 'json' ? JSON.stringify(value) : value;
    });
    vectors[column.name] = fastVector(column.type, values) ?? vectorFromArray(values, arrowType(column.type));
  }
  return new Table(vectors).batches[0]!;
}

/** Builds int32 and list<int32> columns straight from typed arrays; undefined (use the generic path) when a value is null. */
function fastVector(type: ColumnType, values: readonly unknown[]): Vector | undefined {
  if (values.some((v) => v === null)) return undefined;
  if (type === 'int32') return makeVector(Int32Array.from(values as number[]));
  if (type !== 'list<int32>') return undefined;
  const lists = values as readonly number[][];
  const offsets = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) offsets[i + 1] = offsets[i]! + lists[i]!.length;
  const flat = new Int32Array(offsets[lists.length]!);
  lists.forEach((list, i) => flat.set(list, offsets[i]));
  const child = makeData({ type: new Int32(), length: flat.length, data: flat });
  return makeVector(
    makeData({ type: arrowType('list<int32>') as List<Int32>, length: lists.length, valueOffsets: offsets, child }),
  );
}

/** Writes chunks of rows as an Arrow IPC file artifact, one record batch per chunk. */
export async function writeDataset(
  store: ArtifactStore,
  description: ArtifactDescription,
  chunks: AsyncIterable<readonly Row[]> | Iterable<readonly Row[]>,
  fixedColumns?: readonly Column[],
): Promise<ArtifactRef> {
  return store.write(description, async (out) => {
    let columns = fixedColumns;
    let rows = 0;
    const sink = new ArrowSink(out, 'file');
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      columns ??= inferColumns(chunk);
      await sink.write(rowsToBatch(chunk, columns, rows + 1));
      rows += chunk.length;
    }
    columns ??= [];
    if (rows === 0) await sink.write(rowsToBatch([], columns));
    await sink.finish();
    return { rows, schema: columns.map((c) => ({ name: c.name, type: c.type })) };
  });
}

/** Streams a dataset artifact back as chunks of plain rows, one chunk per record batch. */
export async function* readDataset(store: ArtifactStore, ref: ArtifactRef): AsyncGenerator<Row[]> {
  yield* readArrowRows(await store.localPath(ref), ref.schema ?? []);
}

/** Streams an Arrow IPC file (file or stream format) as chunks of plain rows, one per record batch. */
export async function* readArrowRows(
  path: string,
  schema: readonly { name: string; type: string }[] = [],
): AsyncGenerator<Row[]> {
  const types = new Map(schema.map((c) => [c.name, c.type]));
  // From a file handle arrow-js reads one batch at a time; from a read stream it buffers the whole file.
  const handle = await open(path, 'r');
  try {
    yield* readBatches(await RecordBatchReader.from(handle), types);
  } finally {
    await handle.close();
  }
}

async function* readBatches(
  reader: AsyncIterable<RecordBatch>,
  types: ReadonlyMap<string, string>,
): AsyncGenerator<Row[]> {
  for await (const batch of reader) {
    const names = batch.schema.fields.map((f) => f.name);
    const readers = names.map((name) => cellReader(batch.getChild(name)!, types.get(name)));
    const rows: Row[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      const row: Row = {};
      for (let c = 0; c < names.length; c++) row[names[c]!] = readers[c]!(i);
      rows.push(row);
    }
    yield rows;
  }
}

/** A reader of one column's cells; int32 lists and numbers come straight from the typed buffers. */
function cellReader(vector: Vector, type: string | undefined): (i: number) => unknown {
  const only = vector.data.length === 1 ? (vector.data[0] as Data) : undefined;
  if (only && only.nullCount === 0 && (type === 'int32' || type === 'float64')) {
    const values = only.values as Int32Array | Float64Array;
    const offset = only.offset;
    return (i) => values[offset + i];
  }
  if (only && only.nullCount === 0 && type === 'list<int32>' && only.children[0]?.nullCount === 0) {
    const offsets = only.valueOffsets as Int32Array;
    const child = only.children[0];
    const values = child.values as Int32Array;
    const base = only.offset;
    return (i) => Array.from(values.subarray(child.offset + offsets[base + i]!, child.offset + offsets[base + i + 1]!));
  }
  return (i) => fromArrow(vector.get(i), type);
}

function fromArrow(value: unknown, type: string | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'json' && typeof value === 'string') return JSON.parse(value);
  if (typeof value === 'object' && Symbol.iterator in value) return Array.from(value as Iterable<unknown>);
  return value;
}
