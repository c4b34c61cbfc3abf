import {
  isOutOfScopeMetric,
  METRICS,
  TASK_METRICS,
  TRAIN_TASKS,
  TRAINING_METRICS,
  validatedMetrics,
  type TrainTask,
} from '../core/metrics';
import type { Reporter, StepLookup } from './step-lookup';
import type { StepAnalysis } from './validate';

type Wire = { readonly step: string; readonly output: string };

/** Steps that pass rows through unchanged in kind: following their dataset input leads to the tokenize step. */
const PASS_THROUGH = new Set(['clean', 'split', 'pad', 'batch']);

/**
 * Checks that a pipeline's metric names fit the task of the model they are about: a train step's
 * `monitor`, a validate step's thresholds and a deploy step's `metric`, each traced through the
 * inputs to the train step that made the model; and that a train step's `task` is the one its
 * tokenize step encoded the rows for. Names given by expressions are checked when the run starts.
 */
export function checkTasks(steps: StepLookup, analyses: ReadonlyMap<string, StepAnalysis>, report: Reporter): void {
  const { uses, withOf, at } = steps;
  const literalTask = (value: unknown): TrainTask | undefined =>
    value === undefined
      ? 'classification'
      : (TRAIN_TASKS as readonly unknown[]).includes(value)
        ? (value as TrainTask)
        : undefined;
  const modelTask = (wire: Wire | undefined): { task: TrainTask; step: string } | undefined => {
    if (!wire || uses(wire.step) !== 'train' || !['model', 'last'].includes(wire.output)) return undefined;
    const task = literalTask(withOf(wire.step).task);
    return task && { task, step: wire.step };
  };
  /** `scorer`: the validate step whose report the metric is read from; none for a train step's own validation. */
  const checkMetric = (
    id: string,
    key: (string | number)[],
    metric: string,
    model: { task: TrainTask; step: string },
    scorer?: string,
  ) => {
    // A name outside these the schema reports already.
    if (!((scorer === undefined ? TRAINING_METRICS : METRICS) as readonly string[]).includes(metric)) return;
    const where = at(id, 'with', ...key);
    const about = `step "${id}": with.${key.join('.')}: ${metric}`;
    const measured = scorer === undefined ? TASK_METRICS[model.task] : validatedMetrics(model.task);
    if (!(measured as readonly string[]).includes(metric))
      report(
        'METRIC_NOT_REPORTED',
        where,
        `${about} is not a metric of the ${model.task} model that step "${model.step}" trains; it reports ${measured.join(', ')}`,
      );
    else if (isOutOfScopeMetric(metric) && scorer !== undefined && withOf(scorer).out_of_scope === undefined)
      report(
        'METRIC_NOT_REPORTED',
        where,
        `${about} is measured only when validate step "${scorer}" scores out-of-scope rows: give it with.out_of_scope (reject_below), and tokenize its rows with out_of_scope_label`,
      );
  };

  for (const [id, analysis] of analyses) {
    const settings = withOf(id);
    switch (uses(id)) {
      case 'train': {
        const task = literalTask(settings.task);
        if (!task) break;
        if (typeof settings.monitor === 'string') checkMetric(id, ['monitor'], settings.monitor, { task, step: id });
        const tokenize = tokenizeStep(analysis.inputs.train, uses, analyses);
        const encoded = tokenize && literalTask(withOf(tokenize).task);
        if (tokenize && encoded && encoded !== task)
          report(
            'TASK_MISMATCH',
            'task' in settings ? at(id, 'with', 'task') : at(id, 'uses'),
            `step "${id}": task ${task} does not fit the rows tokenize step "${tokenize}" encodes for ${encoded}; set task: ${encoded}`,
          );
        break;
      }
      case 'validate': {
        const model = modelTask(analysis.inputs.model);
        if (!model || !Array.isArray(settings.thresholds)) break;
        settings.thresholds.forEach((condition, i) => {
          const metric =
            typeof condition === 'string' ? /^\s*([a-z_0-9]+)\s*(>=|>|<=|<)/.exec(condition)?.[1] : undefined;
          if (metric) checkMetric(id, ['thresholds', i], metric, model, id);
        });
        break;
      }
      case 'deploy': {
        const scorer = analysis.inputs.metrics?.step;
        const model =
          scorer !== undefined && uses(scorer) === 'validate'
            ? modelTask(analyses.get(scorer)?.inputs.model)
            : undefined;
        if (model && typeof settings.metric === 'string') checkMetric(id, ['metric'], settings.metric, model, scorer);
        break;
      }
    }
  }
}

/** The tokenize step whose rows reach a wire, through clean, split, pad and batch steps. */
function tokenizeStep(
  wire: Wire | undefined,
  uses: (id: string) => unknown,
  analyses: ReadonlyMap<string, StepAnalysis>,
): string | undefined {
  const seen = new Set<string>();
  while (wire && !seen.has(wire.step)) {
    seen.add(wire.step);
    const activity = uses(wire.step);
    if (activity === 'tokenize') return wire.step;
    if (typeof activity !== 'string' || !PASS_THROUGH.has(activity)) return undefined;
    wire = analyses.get(wire.step)?.inputs.dataset;
  }
  return undefined;
}
