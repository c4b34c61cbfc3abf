import { loadBackend } from '../ml/backend/load-backend';
import type { MetricsReport } from '../ml/metrics/metrics-report';
import { loadCheckpointModel } from '../ml/tasks/checkpoint-model';
import { checkThresholds } from '../ml/thresholds';
import { datasetBatches } from '../ml/train/dataset-batches';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `validate` for the same input could change. */
export const VALIDATE_VERSION = '2';

interface ValidateOptions {
  thresholds: string[];
  batch_size: number;
  fail_below: boolean;
}

/** `validate`: scores a checkpoint on a labelled dataset with its task's metrics and checks the thresholds. */
export const validate: StepImplementation = async (input, { deps, progress, provenance }) => {
  const options = input.with as unknown as ValidateOptions;
  const modelRef = input.inputs.model!;
  const dataset = input.inputs.dataset!;
  const { tf, backend } = await loadBackend();
  const { model, task, labels, settings, position } = await loadCheckpointModel(tf, deps.store, modelRef);
  try {
    const columns = (dataset.schema ?? []).map((c) => c.name);
    const missing = task.columns.filter((name) => !columns.includes(name));
    if (columns.length > 0 && missing.length > 0)
      throw new InvalidStepInput(
        `the model is a ${task.name} model, but the dataset lacks column(s) ${missing.join(', ')} (it has ${columns.join(', ')}): tokenize and pad it as the training data was`,
      );
    const evaluation = await task.evaluate(
      tf,
      model,
      datasetBatches(deps.store, dataset, (rows) => task.batch(rows, model.config.classes), options.batch_size),
      labels,
      settings,
      (rows) => progress({ rows, of: dataset.rows }),
    );
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
      summary: `${task.summarize(evaluation)}${verdict}`,
    };
  } finally {
    model.dispose();
  }
};
