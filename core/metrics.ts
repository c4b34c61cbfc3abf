/** The tasks a `train` step can learn; each picks its model head, loss, batches, metrics and predictor. */
export const TRAIN_TASKS = ['classification', 'token_classification', 'question_answering', 'seq2seq'] as const;
export type TrainTask = (typeof TRAIN_TASKS)[number];

/**
 * The validation metrics each task reports, in the order reports show them: what `monitor`,
 * thresholds, early stopping and the deploy gate may name. Token-classification scores are
 * entity-level (seqeval's CoNLL semantics, micro-averaged) except `accuracy`, which counts word tags.
 */
export const TASK_METRICS = {
  classification: ['accuracy', 'f1_macro', 'loss'],
  token_classification: ['f1', 'precision', 'recall', 'accuracy', 'loss'],
  question_answering: ['f1', 'exact_match', 'loss'],
  seq2seq: ['perplexity', 'token_accuracy', 'loss', 'bleu', 'chrf', 'distinct_1', 'distinct_2'],
} as const satisfies Record<TrainTask, readonly string[]>;

/**
 * The classification metrics a `validate` step adds when it scores rows of no known class (its
 * `out_of_scope` setting): thresholds and deploys may name them, training never measures them.
 */
export const OUT_OF_SCOPE_METRICS = ['in_scope_accuracy', 'oos_recall', 'oos_precision'] as const;

export type Metric = (typeof TASK_METRICS)[TrainTask][number] | (typeof OUT_OF_SCOPE_METRICS)[number];

/** Every metric a train step's validation after each epoch measures for some task. */
export const TRAINING_METRICS: readonly Metric[] = [...new Set(Object.values(TASK_METRICS).flat())];

/** Every metric some task reports, for the schema's enums and patterns. */
export const METRICS: readonly Metric[] = [...TRAINING_METRICS, ...OUT_OF_SCOPE_METRICS];

/** The metrics a `validate` step of a `task` model can report: the task's, and for classification the out-of-scope ones. */
export function validatedMetrics(task: TrainTask): readonly Metric[] {
  return task === 'classification' ? [...TASK_METRICS[task], ...OUT_OF_SCOPE_METRICS] : TASK_METRICS[task];
}

/** Whether `metric` is measured only by a `validate` step with `out_of_scope`. */
export function isOutOfScopeMetric(metric: string): boolean {
  return (OUT_OF_SCOPE_METRICS as readonly string[]).includes(metric);
}

/** The metric a task's training monitors and its deploys gate on unless told otherwise. */
export function mainMetric(task: TrainTask): Metric {
  return MAIN_METRIC[task];
}

const MAIN_METRIC = {
  classification: 'f1_macro',
  token_classification: 'f1',
  question_answering: 'f1',
  seq2seq: 'perplexity',
} as const satisfies Record<TrainTask, Metric>;

/** What each metric measures, for the contracts' outputs and the docs. */
const METRIC_MEANINGS: Readonly<Record<Metric, string>> = {
  accuracy:
    'accuracy: the share of texts classified correctly (token classification: of word tags predicted exactly; with out-of-scope rows, their class is one more class)',
  f1_macro:
    'classification: the unweighted mean of the per-class F1 scores (with out-of-scope rows, over the known classes and the out-of-scope one)',
  in_scope_accuracy:
    'classification with out-of-scope rows: the share of in-scope texts given their class (a rejected one counts as wrong)',
  oos_recall: 'classification with out-of-scope rows: the share of out-of-scope texts rejected',
  oos_precision: 'classification with out-of-scope rows: the share of rejected texts that are out of scope',
  f1: 'token classification: entity F1, micro-averaged (seqeval, CoNLL); question answering: SQuAD F1, the token overlap of the normalized answer with the best gold answer, averaged over questions',
  exact_match:
    'question answering: the share of questions whose normalized answer equals one of the gold answers (SQuAD v1.1)',
  precision: 'token classification: the share of predicted entities that are right',
  recall: 'token classification: the share of true entities found',
  perplexity: 'sequence to sequence: e to the power of the mean cross-entropy per target token',
  token_accuracy:
    'sequence to sequence: the share of target tokens predicted exactly when the true tokens before each are given (teacher forcing)',
  bleu: 'sequence to sequence: corpus BLEU-4 (0-100) of the greedy generations against the targets, as sacreBLEU computes it by default (13a tokens, exponential smoothing)',
  chrf: 'sequence to sequence: corpus chrF (0-100; character 6-grams, beta 2) of the greedy generations against the targets, as sacreBLEU computes it by default',
  distinct_1: 'sequence to sequence: unique words over all words of the greedy generations (13a tokens)',
  distinct_2: 'sequence to sequence: unique word pairs over all word pairs of the greedy generations',
  loss: 'mean cross-entropy (per labelled word for token classification; the mean of the start and end position losses per window for question answering; per target token for sequence to sequence)',
};

/** The `metrics` as step outputs, each described as `of` (e.g. "the best epoch's validation") plus its meaning. */
export function metricOutputs(
  of: string,
  metrics: readonly Metric[],
): Partial<Record<Metric, { type: 'number'; description: string }>> {
  return Object.fromEntries(
    metrics.map((m) => [m, { type: 'number' as const, description: `${of} ${METRIC_MEANINGS[m]}.` }]),
  );
}

/** Loss and perplexity are better when lower; every other metric when higher. */
export function lowerIsBetter(metric: Metric): boolean {
  return metric === 'loss' || metric === 'perplexity';
}
