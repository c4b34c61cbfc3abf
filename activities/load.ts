import { basename } from 'node:path';
import { formatFromExtension, readSource, type SourceFormat } from '../data/read-source';
import { resolveDataPath } from '../data/resolve-data-path';
import { writeDataset, type Row } from '../store/arrow-io';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `load` for the same input could change. */
export const LOAD_VERSION = '1';

const CHUNK_ROWS = 8192;

/** `load`: reads a source file in chunks and writes it as an Arrow dataset, mapping columns if asked. */
export const load: StepImplementation = async (input, { deps, progress, provenance, signal }) => {
  const params = input.with as {
    path: string;
    format: 'auto' | SourceFormat;
    columns?: Record<string, string>;
    limit?: number;
  };
  const path = resolveDataPath(params.path, input.run.dir, deps.dataRoots);
  const format = params.format === 'auto' ? formatFromExtension(path) : params.format;
  if (!format) {
    throw new InvalidStepInput(
      `cannot tell the format of ${basename(path)} from its extension; set with.format to jsonl, json, csv, tsv or arrow`,
    );
  }
  const display = params.path;
  let rows = 0;
  async function* chunks(): AsyncGenerator<Row[]> {
    let chunk: Row[] = [];
    for await (const { record } of readSource(path, format!, display)) {
      if (params.limit !== undefined && rows >= params.limit) break;
      if (rows === 0 && params.columns) checkColumns(params.columns, record, display);
      chunk.push(params.columns ? mapColumns(params.columns, record) : record);
      rows++;
      if (chunk.length === CHUNK_ROWS) {
        signal.throwIfAborted();
        progress({ rows });
        yield chunk;
        chunk = [];
      }
    }
    yield chunk;
  }
  const dataset = await writeDataset(
    deps.store,
    { kind: 'dataset', provenance: provenance([], { sources: [path] }) },
    chunks(),
  );
  return { outputs: { dataset, rows: dataset.rows ?? rows }, summary: `${dataset.rows ?? rows} rows from ${display}` };
};

function checkColumns(columns: Record<string, string>, first: Record<string, unknown>, file: string): void {
  const missing = Object.entries(columns).filter(([, field]) => !(field in first));
  if (missing.length > 0) {
    const [column, field] = missing[0]!;
    throw new InvalidStepInput(
      `column "${column}" maps to field "${field}", which ${file} does not have; its fields: ${Object.keys(first).join(', ')}`,
    );
  }
}

function mapColumns(columns: Record<string, string>, record: Record<string, unknown>): Row {
  return Object.fromEntries(Object.entries(columns).map(([column, field]) => [column, record[field] ?? null]));
}
