import { loadBackend } from '../ml/backend/load-backend';
import type { MetricsReport } from '../ml/metrics/metrics-report';
import { loadCheckpointModel } from '../ml/tasks/checkpoint-model';
import { evaluateGroups } from '../ml/tasks/group-evaluation';
import { checkThresholds } from '../ml/thresholds';
import { datasetBatches } from '../ml/train/dataset-batches';
import { lowerIsBetter, mainMetric, type Metric } from '../core/metrics';
import { datasetChain, droppedRows, droppedSummary } from '../store/row-history';
import type { ValidateOutputs, ValidateSettings, ValidateInputs } from '../core/contracts/validate';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `validate` for the same input could change. */
export const VALIDATE_VERSION = '5';

/** `validate`: scores a checkpoint on a labelled dataset with its task's metrics and checks the thresholds. */
export const validate: StepImplementation<ValidateSettings, ValidateOutputs, ValidateInputs> = async (
  input,
  { deps, progress, provenance },
) => {
  const options = input.with;
  const modelRef = input.inputs.model;
  const dataset = input.inputs.dataset;
  const { tf, backend } = await loadBackend();
  const { model, task, labels, settings, position } = await loadCheckpointModel(tf, deps.store, modelRef);
  try {
    const columns = (dataset.schema ?? []).map((c) => c.name);
    const missing = task.columns.filter((name) => !columns.includes(name));
    if (columns.length > 0 && missing.length > 0)
      throw new InvalidStepInput(
        `the model is a ${task.name} model, but the dataset lacks column(s) ${missing.join(', ')} (it has ${columns.join(', ')}): tokenize and pad it as the training data was`,
      );
    const groupBy = options.group_by;
    if (groupBy && columns.length > 0 && !columns.includes(groupBy.column))
      throw new InvalidStepInput(
        `group_by.column ${groupBy.column} is not a column of the dataset (it has ${columns.join(', ')}); tokenize and pad keep the columns of the loaded data`,
      );
    const given = options.out_of_scope;
    if (given && task.name !== 'classification')
      throw new InvalidStepInput(
        `out_of_scope applies to classification models only (this one is a ${task.name} model): remove it`,
      );
    if (given && labels.includes(given.label))
      throw new InvalidStepInput(
        `out_of_scope.label ${given.label} is one of the model's classes: give the out-of-scope class another name`,
      );
    const scoring = {
      classNames: labels,
      settings,
      ...(given && { outOfScope: { label: given.label, rejectBelow: given.reject_below } }),
    };
    const batchOf = (rows: Parameters<typeof task.batch>[0]) =>
      task.batch(rows, model.config.classes, given !== undefined);
    // With groups, every row is scored twice: once overall, once in its group.
    const of = dataset.rows === undefined ? undefined : (groupBy ? 2 : 1) * dataset.rows;
    const evaluation = await task.evaluate(
      tf,
      model,
      datasetBatches(deps.store, dataset, batchOf, options.batch_size),
      {
        ...scoring,
        onBatch: (rows) => progress({ rows, of }),
      },
    );
    const groups =
      groupBy &&
      (await evaluateGroups(
        { tf, task, model, scoring, store: deps.store, dataset, batchSize: options.batch_size },
        groupBy,
        (rows) => progress({ rows: (dataset.rows ?? 0) + rows, of }),
      ));
    const chain = await datasetChain(deps.store, dataset.sha256);
    const dropped = droppedRows(chain);
    const measured = evaluation.metrics as Readonly<Record<string, number>>;
    const checks = checkThresholds(options.thresholds, measured, `the ${task.name} model`);
    const passed = checks.every((c) => c.passed);
    const report: MetricsReport = {
      task: task.name,
      model: { sha256: modelRef.sha256, step: position.step, epoch: position.epoch },
      dataset: { sha256: dataset.sha256, rows: evaluation.rows },
      backend,
      metrics: evaluation.metrics,
      labels,
      per_class: evaluation.perClass,
      ...(evaluation.confusion && { confusion: evaluation.confusion }),
      ...(evaluation.counts && { counts: evaluation.counts }),
      ...(evaluation.examples && { examples: evaluation.examples }),
      ...(evaluation.mistakes && { mistakes: evaluation.mistakes }),
      ...(evaluation.tagged && { tagged: evaluation.tagged }),
      ...(evaluation.outOfScope && { out_of_scope: evaluation.outOfScope }),
      ...(groups && { groups }),
      upstream: { chain, dropped },
      thresholds: checks,
      passed,
    };
    const metrics = await deps.store.write(
      {
        kind: 'report',
        meta: { task: task.name, ...measured, passed },
        provenance: provenance([modelRef.sha256, dataset.sha256]),
      },
      (out) => {
        out.write(JSON.stringify(report, null, 2));
        return Promise.resolve();
      },
    );
    const failedChecks = checks.filter((c) => !c.passed);
    if (options.fail_below && failedChecks.length > 0)
      throw new InvalidStepInput(
        `below threshold: ${failedChecks.map((c) => `${c.condition} (measured ${c.value.toFixed(4)})`).join(', ')}`,
      );
    const verdict =
      checks.length === 0
        ? ''
        : passed
          ? ', thresholds passed'
          : `, FAILED ${failedChecks.map((c) => c.condition).join(', ')}`;
    return {
      outputs: { metrics, ...measured, passed },
      summary: `${task.summarize(evaluation)}${groups ? `; ${weakestGroup(groups, mainMetric(task.name))}` : ''}${dropped.length > 0 ? `; ${droppedSummary(dropped)}` : ''}${verdict}`,
    };
  } finally {
    model.dispose();
  }
};

/** `20 groups by id, lowest f1: qa17 0.0412` (or `highest perplexity: …`) for a step summary. */
function weakestGroup(groups: NonNullable<MetricsReport['groups']>, metric: Metric): string {
  const count = `${groups.scores.length} group${groups.scores.length === 1 ? '' : 's'} by ${groups.column}`;
  const scored = groups.scores.filter((g) => g.metrics[metric] !== undefined);
  if (scored.length === 0) return count;
  const sign = lowerIsBetter(metric) ? -1 : 1;
  const worst = scored.reduce((w, g) => (sign * g.metrics[metric]! < sign * w.metrics[metric]! ? g : w));
  return `${count}, ${sign < 0 ? 'highest' : 'lowest'} ${metric}: ${worst.group} ${worst.metrics[metric]!.toFixed(4)}`;
}
