import type { RowCleaning } from '../data/clean-rows';
import { RowCleaner } from '../data/clean-rows';
import { readDataset, writeDataset, type Column, type Row } from '../store/arrow-io';
import { DatasetWriter } from '../store/dataset-writer';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `clean` for the same input could change. */
export const CLEAN_VERSION = '2';

const QUARANTINE_COLUMNS: Column[] = [
  { name: 'row', type: 'int32' },
  { name: 'reason', type: 'utf8' },
  { name: 'record', type: 'utf8' },
];

/** Raised when more rows are bad than the pipeline tolerates; the quarantine dataset is kept for inspection. */
export class TooManyBadRows extends Error {
  override name = 'TooManyBadRows';
  /** Retrying cannot fix it (see isNonRetryable). */
  readonly nonRetryable = true;
}

/**
 * `clean`: normalizes text row by row, removes duplicates, and streams bad rows with their reason
 * into a quarantine dataset. Stops reading as soon as the bad-row threshold is certainly exceeded.
 */
export const clean: StepImplementation = async (input, { deps, progress, provenance, signal }) => {
  const options = input.with as unknown as RowCleaning;
  const source = input.inputs.dataset!;
  const columns = (source.schema ?? []).map((c) => ({ name: c.name, type: c.type })) as Column[];
  if (!columns.some((c) => c.name === options.text_column)) {
    throw new InvalidStepInput(
      `the input dataset has no column "${options.text_column}"; its columns: ${columns.map((c) => c.name).join(', ')}; set with.text_column`,
    );
  }
  const has = (name: string) => columns.some((c) => c.name === name);
  const cleaner = new RowCleaner(options, {
    label: has(options.label_column),
    answers: has(options.answers_column),
    question: has(options.question_column),
  });
  const parent = [source.sha256];
  const quarantineWriter = new DatasetWriter(
    deps.store,
    { kind: 'dataset', meta: { role: 'quarantine' }, provenance: provenance(parent) },
    QUARANTINE_COLUMNS,
  );
  const reasons = new Map<string, number>();
  let total = 0;
  let kept = 0;
  let duplicates = 0;
  let quarantined = 0;
  let movedAnswers = 0;
  let firstBad: number | undefined;
  const giveUpAt = source.rows !== undefined ? Math.floor(options.max_bad_fraction * source.rows) + 1 : Infinity;

  async function* keptChunks(): AsyncGenerator<Row[]> {
    for await (const chunk of readDataset(deps.store, source)) {
      signal.throwIfAborted();
      const out: Row[] = [];
      const bad: Row[] = [];
      for (const row of chunk) {
        total++;
        const verdict = cleaner.judge(row);
        if ('keep' in verdict) {
          out.push(verdict.keep);
          movedAnswers += verdict.movedAnswers ?? 0;
        } else if ('duplicate' in verdict) {
          duplicates++;
        } else {
          bad.push({ row: total, reason: verdict.quarantine, record: JSON.stringify(row) });
          firstBad ??= total;
          const general = verdict.quarantine.replace(/\s*\(\d+\)$/, '');
          reasons.set(general, (reasons.get(general) ?? 0) + 1);
        }
      }
      quarantined += bad.length;
      await quarantineWriter.append(bad);
      kept += out.length;
      progress({ rows: total, kept, quarantined });
      yield out;
      if (quarantined >= giveUpAt) return;
    }
  }

  const dataset = await writeDataset(
    deps.store,
    { kind: 'dataset', provenance: provenance(parent) },
    keptChunks(),
    columns,
  );
  const quarantine = await quarantineWriter.close();
  const sourceRows = source.rows ?? total;
  const fraction = sourceRows === 0 ? 0 : quarantined / sourceRows;
  if (fraction > options.max_bad_fraction) {
    const breakdown = [...reasons].map(([reason, n]) => `${reason}: ${n}`).join('; ');
    const counted =
      total < sourceRows
        ? `At least ${quarantined} of ${sourceRows} rows (reading stopped at row ${total})`
        : `${quarantined} of ${sourceRows} rows`;
    throw new TooManyBadRows(
      `${counted} (${(fraction * 100).toFixed(1)}%) were quarantined, above max_bad_fraction ${options.max_bad_fraction}. ` +
        `Reasons: ${breakdown}. First: row ${String(firstBad)}. Quarantined rows are in artifact ${quarantine.sha256}.`,
    );
  }
  return {
    outputs: { dataset, quarantine, rows: kept, quarantined, duplicates },
    summary:
      `${kept} rows kept, ${quarantined} quarantined, ${duplicates} duplicates of ${total}` +
      (has(options.answers_column) ? `; ${movedAnswers} answers moved with their cleaned context` : ''),
  };
};
