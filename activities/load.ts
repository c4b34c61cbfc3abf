import { basename } from 'node:path';
import { formatFromExtension, readSource, type SourceFormat } from '../data/read-source';
import { DataPathError, resolveDataPath } from '../data/resolve-data-path';
import type { PlanProblem } from '../spec/load-pipeline';
import type { PipelinePlan } from '../spec/types';
import { writeDataset, type Row } from '../store/arrow-io';
import { canonicalJson } from '../store/canonical-json';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `load` for the same input could change. */
export const LOAD_VERSION = '2';

const CHUNK_ROWS = 8192;

/** `load`: reads a source file in chunks and writes it as an Arrow dataset, mapping columns if asked. */
export const load: StepImplementation = async (input, { deps, progress, provenance, signal }) => {
  const params = input.with as {
    path: string;
    format: 'auto' | SourceFormat;
    columns?: Record<string, string>;
    where?: Record<string, unknown>;
    limit?: number;
  };
  const wanted = Object.entries(params.where ?? {}).map(([field, value]) => [field, canonicalJson(value)] as const);
  const kept = (record: Record<string, unknown>) =>
    wanted.every(([field, value]) => field in record && canonicalJson(record[field]) === value);
  const path = resolveDataPath(params.path, input.run.dir, deps.dataRoots);
  const format = params.format === 'auto' ? formatFromExtension(path) : params.format;
  if (!format) {
    throw new InvalidStepInput(
      `cannot tell the format of ${basename(path)} from its extension; set with.format to jsonl, json, csv, tsv or arrow`,
    );
  }
  const display = params.path;
  let rows = 0;
  let skipped = 0;
  async function* chunks(): AsyncGenerator<Row[]> {
    let chunk: Row[] = [];
    for await (const { record } of readSource(path, format!, display)) {
      if (params.limit !== undefined && rows >= params.limit) break;
      if (rows + skipped === 0 && params.where) checkColumns(params.where, record, display, 'where');
      if (!kept(record)) {
        skipped++;
        continue;
      }
      if (rows === 0 && params.columns)
        checkColumns(
          Object.fromEntries(Object.entries(params.columns).map(([c, f]) => [f, c])),
          record,
          display,
          'columns',
        );
      chunk.push(params.columns ? mapColumns(params.columns, record) : record);
      rows++;
      if (chunk.length === CHUNK_ROWS) {
        signal.throwIfAborted();
        progress({ rows });
        yield chunk;
        chunk = [];
      }
    }
    if (rows === 0)
      throw new InvalidStepInput(
        skipped > 0
          ? `where left none of the ${skipped} rows of ${display}: check its values (JSON equality)`
          : `${display} has no rows: a pipeline cannot learn from an empty file`,
      );
    yield chunk;
  }
  const dataset = await writeDataset(
    deps.store,
    { kind: 'dataset', provenance: provenance([], { sources: [path] }) },
    chunks(),
  );
  const loaded = dataset.rows ?? rows;
  return {
    outputs: { dataset, rows: loaded, skipped },
    summary: `${loaded} rows from ${display}${params.where ? ` (${skipped} left out by where)` : ''}`,
  };
};

/** Every field `keys` names must be in the first record: a typo is an error, not an empty dataset. */
function checkColumns(keys: Record<string, unknown>, first: Record<string, unknown>, file: string, key: string): void {
  const missing = Object.entries(keys).find(([field]) => !(field in first));
  if (missing) {
    const [field, column] = missing;
    throw new InvalidStepInput(
      `${key === 'columns' ? `column "${String(column)}" maps to field` : 'where names field'} "${field}", which ${file} does not have; its fields: ${Object.keys(first).join(', ')}`,
    );
  }
}

function mapColumns(columns: Record<string, string>, record: Record<string, unknown>): Row {
  return Object.fromEntries(Object.entries(columns).map(([column, field]) => [column, record[field] ?? null]));
}

/**
 * The load steps of a plan whose file a run could not read — outside the pipeline's folder and
 * the data roots (symlinks followed), or, with `missing`, not there at all — so a run is refused
 * before any step starts, at the place in the file that names the path.
 */
export function loadPathProblems(
  plan: PipelinePlan,
  dataRoots: readonly string[],
  options: { readonly missing: boolean },
): PlanProblem[] {
  return plan.steps.flatMap((step): PlanProblem[] => {
    const path = step.with.path;
    if (step.uses !== 'load' || typeof path !== 'string') return [];
    try {
      resolveDataPath(path, plan.source.dir, dataRoots);
      return [];
    } catch (error) {
      if (!(error instanceof DataPathError) || (error.kind === 'missing' && !options.missing)) return [];
      return [{ step: step.id, key: ['with', 'path'], message: error.message }];
    }
  });
}
