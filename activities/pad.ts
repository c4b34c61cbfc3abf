import { loadTokenizer, tokenizerFromFile } from '../ml/tokenizers/tokenizer-file';
import { IGNORED_LABEL } from '../ml/tokenizers/task-encoding';
import { keptPositions } from '../ml/tokenizers/truncate';
import { readDataset, type Column, type Row } from '../store/arrow-io';
import { DatasetWriter } from '../store/dataset-writer';
import type { PadOutputs, PadSettings, PadInputs } from '../core/contracts/pad';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `pad` for the same input could change. */
export const PAD_VERSION = '3';

/** Per-token columns that are cut and padded along with input_ids, and the value they are padded with. */
const ALIGNED_COLUMNS: Readonly<Record<string, number>> = {
  tag_ids: IGNORED_LABEL,
  word_ids: -1,
  token_type_ids: 0,
  context_start: -1,
  context_end: -1,
};

/**
 * `pad`: truncates and pads input_ids, adding attention_mask and the unpadded length; a token
 * classification dataset's tag_ids and word_ids, a question-answering dataset's token types and
 * context offsets are cut and padded with them. Question-answering windows are never cut: their
 * answer positions would no longer hold.
 */
export const pad: StepImplementation<PadSettings, PadOutputs, PadInputs> = async (
  input,
  { deps, progress, provenance, signal },
) => {
  const options = input.with;
  const source = input.inputs.dataset;
  const columns = (source.schema ?? []) as Column[];
  if (!columns.some((c) => c.name === 'input_ids'))
    throw new InvalidStepInput('the dataset has no input_ids column: run tokenize before pad');
  const parents = [source.sha256];
  let specials: { start?: number; end?: number } = {};
  let padId = 0;
  if (input.inputs.tokenizer) {
    const tokenizer = tokenizerFromFile(await loadTokenizer(deps.store, input.inputs.tokenizer));
    specials = {
      ...(tokenizer.startId !== undefined && { start: tokenizer.startId }),
      ...(tokenizer.endId !== undefined && { end: tokenizer.endId }),
    };
    padId = tokenizer.padId;
    parents.push(input.inputs.tokenizer.sha256);
  }
  const buckets = [
    ...new Set([...(options.buckets ?? []).filter((b) => b < options.max_length), options.max_length]),
  ].sort((a, b) => a - b);
  const target = (length: number) =>
    options.padding === 'bucket' ? buckets.find((b) => b >= length)! : options.max_length;
  const windows = columns.some((c) => c.name === 'start_position');
  // Sequence-to-sequence targets are cut (keeping their start and end tokens) and padded on their own.
  const targets = columns.some((c) => c.name === 'target_ids');
  const targetLength = options.target_max_length ?? options.max_length;
  const aligned = columns.filter((c) => Object.hasOwn(ALIGNED_COLUMNS, c.name)).map((c) => c.name);
  const replaced = ['input_ids', 'attention_mask', 'length', 'token_start', 'token_end', 'target_ids', 'target_mask'];
  const kept = columns.filter((c) => ![...replaced, ...aligned].includes(c.name));
  const outColumns: Column[] = [
    ...kept,
    ...aligned.map((name): Column => ({ name, type: 'list<int32>' })),
    { name: 'input_ids', type: 'list<int32>' },
    { name: 'attention_mask', type: 'list<int32>' },
    { name: 'length', type: 'int32' },
    ...(targets
      ? [{ name: 'target_ids', type: 'list<int32>' } as const, { name: 'target_mask', type: 'list<int32>' } as const]
      : []),
  ];
  const writer = new DatasetWriter(
    deps.store,
    {
      kind: 'dataset',
      // The longest sequence the model must hold: its position table covers sources and targets.
      meta: {
        max_length: targets ? Math.max(options.max_length, targetLength) : options.max_length,
        padding: options.padding,
      },
      provenance: provenance(parents),
    },
    outColumns,
  );
  let rows = 0;
  let truncated = 0;
  let truncatedTargets = 0;
  for await (const chunk of readDataset(deps.store, source)) {
    signal.throwIfAborted();
    const out = chunk.map((row): Row => {
      const ids = row.input_ids as number[];
      if (ids.length > options.max_length) {
        if (windows)
          throw new InvalidStepInput(
            `row ${rows}: a question-answering window of ${ids.length} tokens does not fit max_length ${options.max_length}; set the tokenize step's max_length to at most ${options.max_length}`,
          );
        truncated++;
      }
      const positions = keptPositions(ids, options.max_length, options.truncation, specials);
      const width = target(positions.length);
      const cutAndPad = (values: readonly number[], fill: number) => [
        ...positions.map((i) => values[i]!),
        ...new Array<number>(width - positions.length).fill(fill),
      ];
      const alignedValues = Object.fromEntries(
        aligned.map((name) => {
          const values = row[name];
          if (!Array.isArray(values) || values.length !== ids.length)
            throw new InvalidStepInput(
              `row ${rows}: ${name} has ${Array.isArray(values) ? values.length : 'no'} entries for ${ids.length} input_ids; tokenize the dataset again`,
            );
          return [name, cutAndPad(values as number[], ALIGNED_COLUMNS[name]!)];
        }),
      );
      rows++;
      const padded = cutAndPad(ids, padId);
      const mask = padded.map((_, i) => (i < positions.length ? 1 : 0));
      const rest = Object.fromEntries(kept.map((c) => [c.name, row[c.name]]));
      return {
        ...rest,
        ...alignedValues,
        input_ids: padded,
        attention_mask: mask,
        length: positions.length,
        ...(targets && padTarget(row.target_ids, targetLength, padId, rows, () => truncatedTargets++)),
      };
    });
    await writer.append(out);
    progress({ rows });
  }
  const dataset = await writer.close();
  return {
    outputs: { dataset, truncated },
    summary: `${rows} rows padded to ${options.padding === 'bucket' ? `buckets ${buckets.join('/')}` : options.max_length}, ${truncated} truncated${targets ? `; targets padded to ${targetLength}, ${truncatedTargets} truncated` : ''}`,
  };
};

/** A target cut to `length` tokens (its start and end tokens kept) and padded, with its mask. */
function padTarget(
  value: unknown,
  length: number,
  padId: number,
  row: number,
  onTruncated: () => void,
): { target_ids: number[]; target_mask: number[] } {
  if (!Array.isArray(value) || value.length < 2)
    throw new InvalidStepInput(`row ${row}: target_ids must hold a start token and more; tokenize the dataset again`);
  const ids = value as number[];
  if (ids.length > length) onTruncated();
  const kept = keptPositions(ids, length, 'end', { start: ids[0]!, end: ids[ids.length - 1]! });
  const padding = (fill: number) => new Array<number>(length - kept.length).fill(fill);
  return {
    target_ids: [...kept.map((i) => ids[i]!), ...padding(padId)],
    target_mask: [...kept.map(() => 1), ...padding(0)],
  };
}
