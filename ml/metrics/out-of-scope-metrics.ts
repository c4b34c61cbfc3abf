/** In-scope accuracy, out-of-scope recall and precision of one rejection threshold. */
export interface OutOfScopeScores {
  /** The share of in-scope rows given their class (a rejected one counts as wrong). */
  readonly in_scope_accuracy: number;
  /** The share of out-of-scope rows rejected. */
  readonly oos_recall: number;
  /** The share of rejected rows that are out of scope. */
  readonly oos_precision: number;
}

/** The thresholds a report's rejection curve shows, besides the one the step used. */
export const CURVE_THRESHOLDS = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99] as const;

/**
 * The out-of-scope scores of class ids where class `outOfScope` stands for "none of the model's
 * classes", in `actual` and in `predicted` (a rejection); a share of nothing is 0.
 */
export function outOfScopeScores(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  outOfScope: number,
): OutOfScopeScores {
  let inScope = 0;
  let inScopeRight = 0;
  let outside = 0;
  let rejected = 0;
  let rightlyRejected = 0;
  for (let i = 0; i < actual.length; i++) {
    const truth = actual[i]!;
    const guess = predicted[i]!;
    if (truth === outOfScope) outside++;
    else {
      inScope++;
      if (guess === truth) inScopeRight++;
    }
    if (guess === outOfScope) {
      rejected++;
      if (truth === outOfScope) rightlyRejected++;
    }
  }
  const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
  return {
    in_scope_accuracy: share(inScopeRight, inScope),
    oos_recall: share(rightlyRejected, outside),
    oos_precision: share(rightlyRejected, rejected),
  };
}

/** Each row's most likely class and its probability, before any rejection. */
export interface RankedRows {
  readonly best: ArrayLike<number>;
  readonly probability: ArrayLike<number>;
}

/** The class ids predicted when every row less sure than `rejectBelow` is rejected (given class `outOfScope`). */
export function withRejection(rows: RankedRows, rejectBelow: number, outOfScope: number): Int32Array {
  return Int32Array.from({ length: rows.best.length }, (_, i) =>
    rows.probability[i]! < rejectBelow ? outOfScope : rows.best[i]!,
  );
}

/** One point of a rejection curve: a threshold, the rows it rejects and its scores. */
export interface CurvePoint extends OutOfScopeScores {
  readonly reject_below: number;
  readonly rejected: number;
}

/** The out-of-scope scores at each threshold (the used one among them), lowest first: what choosing another would give. */
export function rejectionCurve(
  actual: ArrayLike<number>,
  rows: RankedRows,
  outOfScope: number,
  used: number,
): CurvePoint[] {
  const thresholds = [...new Set([...CURVE_THRESHOLDS, used])].sort((a, b) => a - b);
  return thresholds.map((rejectBelow) => {
    const predicted = withRejection(rows, rejectBelow, outOfScope);
    return {
      reject_below: rejectBelow,
      rejected: predicted.filter((c) => c === outOfScope).length,
      ...outOfScopeScores(actual, predicted, outOfScope),
    };
  });
}
