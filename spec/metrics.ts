/** The tasks a `train` step can learn; each picks its model head, loss, batches, metrics and predictor. */
export const TRAIN_TASKS = ['classification', 'token_classification'] as const;
export type TrainTask = (typeof TRAIN_TASKS)[number];

/**
 * The validation metrics each task reports, in the order reports show them: what `monitor`,
 * thresholds, early stopping and the deploy gate may name. Token-classification scores are
 * entity-level (seqeval's CoNLL semantics, micro-averaged) except `accuracy`, which counts word tags.
 */
export const TASK_METRICS = {
  classification: ['accuracy', 'f1_macro', 'loss'],
  token_classification: ['f1', 'precision', 'recall', 'accuracy', 'loss'],
} as const satisfies Record<TrainTask, readonly string[]>;

export type Metric = (typeof TASK_METRICS)[TrainTask][number];

/** Every metric some task reports, for the schema's enums and patterns. */
export const METRICS: readonly Metric[] = [...new Set(Object.values(TASK_METRICS).flat())];

/** The metric a task's training monitors and its deploys gate on unless told otherwise. */
export function mainMetric(task: TrainTask): Metric {
  return MAIN_METRIC[task];
}

const MAIN_METRIC = { classification: 'f1_macro', token_classification: 'f1' } as const satisfies Record<
  TrainTask,
  Metric
>;

/** Whether `task` reports `metric`. */
export function reportsMetric(task: TrainTask, metric: string): boolean {
  return (TASK_METRICS[task] as readonly string[]).includes(metric);
}

/** Loss is better when lower; every other metric when higher. */
export function lowerIsBetter(metric: Metric): boolean {
  return metric === 'loss';
}
