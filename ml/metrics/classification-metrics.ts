/** Classification quality on a labelled set. */
export interface ClassificationMetrics {
  readonly accuracy: number;
  readonly f1Macro: number;
  readonly perClass: readonly {
    readonly label: string;
    readonly precision: number;
    readonly recall: number;
    readonly f1: number;
    readonly support: number;
  }[];
  /** confusion[actual][predicted] counts. */
  readonly confusion: readonly (readonly number[])[];
}

/** Accuracy, macro-F1 (unweighted mean over classes), per-class precision/recall/F1 and the confusion matrix. */
export function classificationMetrics(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  labels: readonly string[],
): ClassificationMetrics {
  if (actual.length !== predicted.length)
    throw new RangeError(`${actual.length} labels but ${predicted.length} predictions`);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < actual.length; i++) {
    confusion[actual[i]!]![predicted[i]!]! += 1;
    if (actual[i] === predicted[i]) correct++;
  }
  const perClass = labels.map((label, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  return {
    accuracy: actual.length === 0 ? 0 : correct / actual.length,
    f1Macro: perClass.reduce((a, c) => a + c.f1, 0) / Math.max(1, k),
    perClass,
    confusion,
  };
}
