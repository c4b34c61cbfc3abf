import { basename } from 'node:path';
import { formatFromExtension, readSource, type BadRecord } from '../data/read-source';
import { SourceDataError } from '../data/line-reader';
import { DataPathError, resolveDataPath } from '../data/resolve-data-path';
import type { LoadOutputs, LoadSettings, LoadInputs } from '../core/contracts/load';
import type { PlanProblem } from '../compiler/load-pipeline';
import type { PipelinePlan } from '../core/plan';
import { writeDataset, type Row } from '../store/arrow-io';
import { canonicalJson } from '../store/canonical-json';
import { InvalidStepInput, type StepImplementation } from './define-step';
import { Quarantine } from './quarantine';

/** Bumped whenever the output of `load` for the same input could change. */
export const LOAD_VERSION = '4';

/** A chunk (an Arrow record batch, which later steps read at once) holds at most this many rows… */
const CHUNK_ROWS = 8192;
/** …and about this much text, so long texts do not make a chunk huge. */
const CHUNK_TEXT_BYTES = 8 * 1024 * 1024;

/** `load`: reads a source file in chunks and writes it as an Arrow dataset, mapping columns if asked. */
export const load: StepImplementation<LoadSettings, LoadOutputs, LoadInputs> = async (
  input,
  { deps, progress, provenance, signal },
) => {
  const params = input.with;
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
  const quarantine = new Quarantine(deps.store, provenance([], { sources: [path] }));
  const onBad =
    params.on_bad_record === 'quarantine'
      ? (bad: BadRecord) => quarantine.add(bad.line, bad.problem, bad.text)
      : undefined;
  // A field named by columns or where that no record has is a typo: it is found in the first records.
  const fields = new FieldPresence(
    new Map<string, string | undefined>([
      ...Object.keys(params.where ?? {}).map((field) => [field, undefined] as const),
      ...Object.entries(params.columns ?? {}).map(([column, field]) => [field, column] as const),
    ]),
    display,
  );
  let rows = 0;
  let skipped = 0;
  async function* chunks(): AsyncGenerator<Row[]> {
    let chunk: Row[] = [];
    let chunkText = 0;
    for await (const { line, record } of readSource(path, format!, display, onBad, params.max_record_bytes)) {
      if (params.limit !== undefined && rows >= params.limit) break;
      fields.see(record);
      if (!kept(record)) {
        skipped++;
        continue;
      }
      const lacking = params.columns && Object.values(params.columns).find((field) => !(field in record));
      if (lacking !== undefined) {
        const problem = `lacks field "${lacking}", which columns maps`;
        if (!onBad) throw new SourceDataError(display, line, problem);
        quarantine.add(line, problem, JSON.stringify(record));
        continue;
      }
      const row = params.columns ? mapColumns(params.columns, record) : record;
      chunk.push(row);
      chunkText += textLength(row);
      rows++;
      if (chunk.length === CHUNK_ROWS || chunkText >= CHUNK_TEXT_BYTES) {
        signal.throwIfAborted();
        progress({ rows, quarantined: quarantine.count });
        await quarantine.flush();
        yield chunk;
        chunk = [];
        chunkText = 0;
      }
    }
    fields.check();
    if (rows === 0)
      throw new InvalidStepInput(
        skipped > 0
          ? `where left none of the ${skipped} rows of ${display}: check its values (JSON equality)`
          : quarantine.count > 0
            ? `none of the ${quarantine.count} records of ${display} could be read`
            : `${display} has no rows: a pipeline cannot learn from an empty file`,
      );
    yield chunk;
  }
  const dataset = await writeDataset(
    deps.store,
    { kind: 'dataset', provenance: provenance([], { sources: [path] }) },
    chunks(),
  );
  const quarantined = await quarantine.close();
  const loaded = dataset.rows ?? rows;
  quarantine.check(loaded + skipped + quarantine.count, params.max_bad_fraction, quarantined);
  return {
    outputs: { dataset, rows: loaded, skipped, quarantine: quarantined, quarantined: quarantine.count },
    summary:
      `${loaded} rows from ${display}${params.where ? ` (${skipped} left out by where)` : ''}` +
      (quarantine.count > 0 ? `, ${quarantine.count} records quarantined` : ''),
  };
};

/** The characters of a row's strings, and of strings in its lists (pre-split words): what dominates its size. */
function textLength(row: Row): number {
  let length = 0;
  for (const value of Object.values(row)) {
    if (typeof value === 'string') length += value.length;
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') length += item.length;
  }
  return length;
}

/** How many of the first records are looked at for each field before a field none of them has is a typo. */
const TYPO_RECORDS = 100;

/**
 * Watches whether the fields `columns` and `where` name occur in the records: one that none of the
 * first records has (or none at all, in a shorter file) is a typo and fails the step with the fields
 * there are; a record here and there without it is the data's problem, not the pipeline's.
 */
class FieldPresence {
  /** Each named field no record has shown yet, with the column it maps to (undefined for where). */
  private readonly unseen: Map<string, string | undefined>;
  private first: Record<string, unknown> | undefined;
  private records = 0;

  constructor(
    named: ReadonlyMap<string, string | undefined>,
    private readonly file: string,
  ) {
    this.unseen = new Map(named);
  }

  see(record: Record<string, unknown>): void {
    this.first ??= record;
    this.records++;
    for (const field of this.unseen.keys()) if (field in record) this.unseen.delete(field);
    if (this.records === TYPO_RECORDS) this.check();
  }

  /** Fails for a named field no record seen so far has. */
  check(): void {
    const [missing] = this.unseen;
    if (!missing || !this.first) return;
    const [field, column] = missing;
    throw new InvalidStepInput(
      `${column !== undefined ? `column "${column}" maps to field` : 'where names field'} "${field}", which ${this.file} does not have in ${this.records === 1 ? 'its first record' : `any of its first ${this.records} records`}; its fields: ${Object.keys(this.first).join(', ')}`,
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
      if (!(error instanceof DataPathError) || (error.reason === 'missing' && !options.missing)) return [];
      return [{ step: step.id, key: ['with', 'path'], code: 'DATA_PATH_REFUSED', message: error.message }];
    }
  });
}
