import { RowCleaner } from '../data/clean-rows';
import { TimeSlicer } from '../data/time-slicer';
import { readDataset, writeDataset, type Column, type Row } from '../store/arrow-io';
import type { CleanOutputs, CleanSettings, CleanInputs } from '../core/contracts/clean';
import { InvalidStepInput, type StepImplementation } from './define-step';
import { Quarantine } from './quarantine';

/** Bumped whenever the output of `clean` for the same input could change. */
export const CLEAN_VERSION = '3';

/**
 * `clean`: normalizes text row by row, removes duplicates, and streams bad rows with their reason
 * into a quarantine dataset. Stops reading as soon as the bad-row threshold is certainly exceeded.
 */
export const clean: StepImplementation<CleanSettings, CleanOutputs, CleanInputs> = async (
  input,
  { deps, progress, provenance, signal },
) => {
  const options = input.with;
  const source = input.inputs.dataset;
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
  const quarantine = new Quarantine(deps.store, provenance(parent));
  let total = 0;
  let kept = 0;
  let duplicates = 0;
  let movedAnswers = 0;
  const giveUpAt = source.rows !== undefined ? Math.floor(options.max_bad_fraction * source.rows) + 1 : Infinity;

  const slicer = new TimeSlicer();
  async function* keptChunks(): AsyncGenerator<Row[]> {
    for await (const chunk of readDataset(deps.store, source)) {
      signal.throwIfAborted();
      const out: Row[] = [];
      for (const row of chunk) {
        await slicer.pause();
        total++;
        const verdict = cleaner.judge(row);
        if ('keep' in verdict) {
          out.push(verdict.keep);
          movedAnswers += verdict.movedAnswers ?? 0;
        } else if ('duplicate' in verdict) {
          duplicates++;
        } else {
          quarantine.add(total, verdict.quarantine, JSON.stringify(row));
        }
      }
      await quarantine.flush();
      kept += out.length;
      progress({ rows: total, kept, quarantined: quarantine.count });
      yield out;
      if (quarantine.count >= giveUpAt) return;
    }
  }

  const dataset = await writeDataset(
    deps.store,
    { kind: 'dataset', provenance: provenance(parent) },
    keptChunks(),
    columns,
  );
  const quarantined = await quarantine.close();
  quarantine.check(source.rows ?? total, options.max_bad_fraction, quarantined, total);
  return {
    outputs: { dataset, quarantine: quarantined, rows: kept, quarantined: quarantine.count, duplicates },
    summary:
      `${kept} rows kept, ${quarantine.count} quarantined, ${duplicates} duplicates of ${total}` +
      (has(options.answers_column) ? `; ${movedAnswers} answers moved with their cleaned context` : ''),
  };
};
