import { failureClass } from '../core/failures';
/** One `metric op number` condition and how a measured value fared against it. */
export interface ThresholdCheck {
  readonly condition: string;
  readonly metric: string;
  readonly value: number;
  readonly passed: boolean;
}

const FORM = /^\s*([a-z_0-9]+)\s*(>=|>|<=|<)\s*([0-9]*\.?[0-9]+)\s*$/;

/** Raised for a condition that is not `metric op number` or names a metric that was not measured. */
export class ThresholdError extends failureClass('ThresholdError') {}

/** Checks conditions like `f1_macro >= 0.9` against measured metrics; `about` names what measured them in errors. */
export function checkThresholds(
  conditions: readonly string[],
  metrics: Readonly<Record<string, number>>,
  about = 'the model',
): ThresholdCheck[] {
  return conditions.map((condition) => {
    const match = FORM.exec(condition);
    if (!match) throw new ThresholdError(`threshold "${condition}" is not of the form \`metric >= number\``);
    const [, metric, op, bound] = match as unknown as [string, string, string, string];
    const value = metrics[metric];
    if (value === undefined)
      throw new ThresholdError(
        `threshold "${condition}": ${about} reports no metric ${metric}; it reports ${Object.keys(metrics).join(', ')}`,
      );
    const limit = Number(bound);
    const passed =
      op === '>=' ? value >= limit : op === '>' ? value > limit : op === '<=' ? value <= limit : value < limit;
    return { condition: condition.trim(), metric, value, passed };
  });
}
