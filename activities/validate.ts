import { loadBackend } from '../ml/backend/load-backend';
import { loadCheckpointModel } from '../ml/train/checkpoint';
import { datasetBatches } from '../ml/train/classification-batches';
import { evaluateClassifier } from '../ml/train/evaluate';
import type { MetricsReport } from '../ml/metrics-report';
import { checkThresholds } from '../ml/thresholds';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever the output of `validate` for the same input could change. */
export const VALIDATE_VERSION = '1';

interface ValidateOptions {
  thresholds: string[];
  batch_size: number;
  fail_below: boolean;
}

/** `validate`: scores a checkpoint on a labelled dataset and checks the thresholds. */
export const validate: StepImplementation = async (input, { deps, progress, provenance }) => {
  const options = input.with as unknown as ValidateOptions;
  const modelRef = input.inputs.model!;
  const dataset = input.inputs.dataset!;
  const { tf, backend } = await loadBackend();
  const { model, labels, position } = await loadCheckpointModel(tf, deps.store, modelRef);
  try {
    const evaluation = await evaluateClassifier(
      tf,
      model,
      datasetBatches(deps.store, dataset, model.config.classes, options.batch_size),
      labels,
      (rows) => progress({ rows, of: dataset.rows }),
    );
    const measured = { accuracy: evaluation.accuracy, f1_macro: evaluation.f1Macro, loss: evaluation.loss };
    const checks = checkThresholds(options.thresholds, measured);
    const passed = checks.every((c) => c.passed);
    const report: MetricsReport = {
      task: 'classification',
      model: { sha256: modelRef.sha256, step: position.step, epoch: position.epoch },
      dataset: { sha256: dataset.sha256, rows: evaluation.rows },
      backend,
      ...measured,
      labels,
      per_class: evaluation.perClass,
      confusion: evaluation.confusion,
      thresholds: checks,
      passed,
    };
    const metrics = await deps.store.write(
      { kind: 'report', meta: { ...measured, passed }, provenance: provenance([modelRef.sha256, dataset.sha256]) },
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
      summary: `${evaluation.rows} rows: accuracy ${evaluation.accuracy.toFixed(4)}, macro-F1 ${evaluation.f1Macro.toFixed(4)}, loss ${evaluation.loss.toFixed(4)}${verdict}`,
    };
  } finally {
    model.dispose();
  }
};
