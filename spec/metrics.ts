/** The validation metrics that training monitors, thresholds test and deploys gate on. */
export const METRICS = ['accuracy', 'f1_macro', 'loss'] as const;
export type Metric = (typeof METRICS)[number];

/** Loss is better when lower; every other metric when higher. */
export function lowerIsBetter(metric: Metric): boolean {
  return metric === 'loss';
}
