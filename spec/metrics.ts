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

export type Metric = (typeof TASK_METRICS)[TrainTask][number];

/** Every metric some task reports, for the schema's enums and patterns. */
export const METRICS: readonly Metric[] = [...new Set(Object.values(TASK_METRICS).flat())];

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

/** Whether `task` reports `metric`. */
export function reportsMetric(task: TrainTask, metric: string): boolean {
  return (TASK_METRICS[task] as readonly string[]).includes(metric);
}

/** What each metric measures, for the contracts' outputs and the docs. */
const METRIC_MEANINGS: Readonly<Record<Metric, string>> = {
  accuracy: 'accuracy: the share of texts classified correctly (token classification: of word tags predicted exactly)',
  f1_macro: 'classification: the unweighted mean of the per-class F1 scores',
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

/** Every metric as a step output, described as `of` (e.g. "the best epoch's validation") plus its meaning. */
export function metricOutputs(of: string): Record<Metric, { type: 'number'; description: string }> {
  return Object.fromEntries(
    METRICS.map((m) => [m, { type: 'number' as const, description: `${of} ${METRIC_MEANINGS[m]}.` }]),
  ) as Record<Metric, { type: 'number'; description: string }>;
}

/** Loss and perplexity are better when lower; every other metric when higher. */
export function lowerIsBetter(metric: Metric): boolean {
  return metric === 'loss' || metric === 'perplexity';
}
