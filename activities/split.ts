import { assignSplits, SPLITS } from '../data/split-assign';
import type { ArtifactRef } from '../core/artifacts';
import { readDataset, type Column } from '../store/arrow-io';
import { DatasetWriter } from '../store/dataset-writer';
import type { SplitOutputs, SplitSettings, SplitInputs } from '../core/contracts/split';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `split` for the same input could change. */
export const SPLIT_VERSION = '1';

/** `split`: two passes over the input: read the grouping column, then route every row to its split. */
export const split: StepImplementation<SplitSettings, SplitOutputs, SplitInputs> = async (
  input,
  { deps, progress, provenance, signal },
) => {
  const options = input.with;
  const total = options.train + options.validation + options.test;
  if (Math.abs(total - 1) > 1e-9) {
    throw new InvalidStepInput(
      `train + validation + test must add up to 1, but ${options.train} + ${options.validation} + ${options.test} = ${total}`,
    );
  }
  const source = input.inputs.dataset;
  const columns = (source.schema ?? []) as Column[];
  if (options.stratify_by !== undefined && !columns.some((c) => c.name === options.stratify_by)) {
    throw new InvalidStepInput(
      `cannot stratify by "${options.stratify_by}": the dataset's columns are ${columns.map((c) => c.name).join(', ')}`,
    );
  }
  const groups = new Int32Array(source.rows ?? 0);
  const groupIds = new Map<string, number>();
  let index = 0;
  for await (const chunk of readDataset(deps.store, source)) {
    for (const row of chunk) {
      const name = options.stratify_by === undefined ? '' : JSON.stringify(row[options.stratify_by] ?? null);
      let id = groupIds.get(name);
      if (id === undefined) groupIds.set(name, (id = groupIds.size));
      groups[index++] = id;
    }
  }
  const assignment = assignSplits(groups, [...groupIds.keys()], options, options.seed);
  const writers = SPLITS.map(
    (name) =>
      new DatasetWriter(
        deps.store,
        { kind: 'dataset', meta: { split: name }, provenance: provenance([source.sha256]) },
        columns,
      ),
  );
  let row = 0;
  for await (const chunk of readDataset(deps.store, source)) {
    signal.throwIfAborted();
    const parts = SPLITS.map(() => [] as typeof chunk);
    for (const r of chunk) parts[assignment[row++]!]!.push(r);
    await Promise.all(parts.map((part, i) => writers[i]!.append(part)));
    progress({ rows: row });
  }
  const [train, validation, test] = (await Promise.all(writers.map((w) => w.close()))) as [
    ArtifactRef,
    ArtifactRef,
    ArtifactRef,
  ];
  const counts = [train.rows!, validation.rows!, test.rows!] as const;
  return {
    outputs: { train, validation, test, train_rows: counts[0], validation_rows: counts[1], test_rows: counts[2] },
    summary: `${counts[0]} train, ${counts[1]} validation, ${counts[2]} test rows${options.stratify_by ? ` (stratified by ${options.stratify_by})` : ''}`,
  };
};
