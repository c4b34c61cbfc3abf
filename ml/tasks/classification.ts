import { classificationMetrics } from '../metrics/classification-metrics';
import { outOfScopeScores, rejectionCurve, withRejection } from '../metrics/out-of-scope-metrics';
import { classifierLogits } from '../models/encoder';
import { tokenizerFromFile } from '../tokenizers/tokenizer-file';
import { OUT_OF_SCOPE_ID } from '../tokenizers/row-encoders';
import { truncateIds } from '../tokenizers/truncate';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { predictRows, probabilities, type EncoderBatch } from './encoder-objective';
import { REPORTED_ROWS, type Mistake, type Task } from './task';

/** A classification batch: each row's text besides its ids, for the report's mistakes. */
export interface ClassificationBatch extends EncoderBatch {
  /** Each row's `text` column, when the dataset keeps one. */
  readonly texts?: readonly (string | undefined)[];
}

/** One classification answer: the label, its probability, and the k most likely labels. */
export interface ClassPrediction {
  readonly label: string;
  readonly probability: number;
  readonly top_k: readonly { readonly label: string; readonly probability: number }[];
}

/** Sequence classification: one class per text, from the first token's vector or the mean over tokens. */
export const classification: Task<ClassificationBatch> = {
  name: 'classification',
  head: { name: 'sequence', pooled: true, logits: classifierLogits },
  classNames: (tokenizer) => tokenizer.labels ?? [],
  missingNamesHint: 'tokenize the training split with its label column',
  instanceFields: ['text'],
  columns: ['input_ids', 'attention_mask', 'label_id'],

  /** Packs padded rows (input_ids, attention_mask, label_id) into one batch. */
  batch(rows, classes, outOfScope = false): ClassificationBatch {
    const inputs = paddedInputs(rows);
    const labels = new Int32Array(inputs.size);
    rows.forEach((row, r) => {
      const label = row.label_id;
      if (label === OUT_OF_SCOPE_ID && !outOfScope)
        throw new TrainingDataError(
          "a row is out of scope (label_id -1, from tokenize's out_of_scope_label): train only on rows of the model's classes, and score out-of-scope rows with validate's out_of_scope",
        );
      if (typeof label !== 'number' || !Number.isInteger(label) || label < OUT_OF_SCOPE_ID || label >= classes)
        throw new TrainingDataError(
          `label_id ${String(label)} is not a class id in 0..${classes - 1}: tokenize the data with a label column, using the training tokenizer`,
        );
      labels[r] = label;
    });
    return { ...inputs, labels, texts: rows.map((row) => (typeof row.text === 'string' ? row.text : undefined)) };
  },

  async evaluate(tf, model, batches, { classNames, onBatch, outOfScope }) {
    const k = classNames.length;
    // Out of scope is one class more, after the model's: rows labelled -1 and rejected predictions.
    const scoredNames = outOfScope ? [...classNames, outOfScope.label] : classNames;
    const actual: number[] = [];
    const ranked = { best: [] as number[], probability: [] as number[] };
    let lossSum = 0;
    const mistakes = new ConfidentMistakes(REPORTED_ROWS * 2);
    for await (const batch of batches) {
      const rows = predictRows(tf, model, batch, true);
      for (let i = 0; i < batch.size; i++) {
        const label = batch.labels[i]!;
        const best = rows.predicted[i]!;
        const probability = softmaxAt(rows.logits!.subarray(i * k, (i + 1) * k), best);
        const truth = label === OUT_OF_SCOPE_ID ? k : label;
        const guess = outOfScope && probability < outOfScope.rejectBelow ? k : best;
        actual.push(truth);
        ranked.best.push(best);
        ranked.probability.push(probability);
        lossSum += rows.losses[i]!;
        if (guess !== truth)
          mistakes.add({
            text: batch.texts?.[i] ?? '',
            actual: scoredNames[truth]!,
            predicted: scoredNames[guess]!,
            probability,
          });
      }
      onBatch?.(actual.length);
    }
    const predicted = outOfScope ? withRejection(ranked, outOfScope.rejectBelow, k) : ranked.best;
    const scores = classificationMetrics(actual, predicted, scoredNames);
    const outOfScopeRows = outOfScope ? actual.filter((c) => c === k).length : 0;
    const inScopeRows = actual.length - outOfScopeRows;
    return {
      metrics: {
        accuracy: scores.accuracy,
        f1_macro: scores.f1Macro,
        loss: inScopeRows === 0 ? 0 : lossSum / inScopeRows,
        ...(outOfScope && outOfScopeScores(actual, predicted, k)),
      },
      rows: actual.length,
      perClass: scores.perClass,
      confusion: scores.confusion,
      mistakes: mistakes.worst(),
      ...(outOfScope && {
        outOfScope: {
          label: outOfScope.label,
          reject_below: outOfScope.rejectBelow,
          rows: outOfScopeRows,
          rejected: Array.from(predicted).filter((c) => c === k).length,
          curve: rejectionCurve(actual, ranked, k, outOfScope.rejectBelow),
        },
      }),
    };
  },

  summarize: ({ rows, metrics: m, outOfScope }) =>
    `${rows} rows: accuracy ${m.accuracy!.toFixed(4)}, macro-F1 ${m.f1_macro!.toFixed(4)}, loss ${m.loss!.toFixed(4)}` +
    (outOfScope
      ? `; ${outOfScope.rows} out of scope: in-scope accuracy ${m.in_scope_accuracy!.toFixed(4)}, out-of-scope recall ${m.oos_recall!.toFixed(4)}, precision ${m.oos_precision!.toFixed(4)} (${outOfScope.rejected} rejected below ${outOfScope.reject_below})`
      : ''),

  /** Texts encoded as in training ([CLS] … [SEP], cut at the model's length), classified in one pass. */
  createPredictor(tf, model, file, classNames) {
    const tokenizer = tokenizerFromFile(file);
    const specials = {
      ...(tokenizer.startId !== undefined && { start: tokenizer.startId }),
      ...(tokenizer.endId !== undefined && { end: tokenizer.endId }),
    };
    const k = classNames.length;
    return {
      predict(requests): ClassPrediction[] {
        const encoded = requests.map((r) =>
          truncateIds(tokenizer.encodeWithSpecialTokens(r.instance.text!).ids, model.config.maxLength, 'end', specials),
        );
        const probs = probabilities(tf, model, encoded, tokenizer.padId);
        return requests.map((request, r) => {
          const ranked = Array.from(probs.subarray(r * k, (r + 1) * k))
            .map((probability, c) => ({ label: classNames[c]!, probability }))
            .sort((a, b) => b.probability - a.probability);
          return { ...ranked[0]!, top_k: ranked.slice(0, Math.min(request.topK, k)) };
        });
      },
      describe({ text }, prediction) {
        const p = prediction as ClassPrediction;
        return `${p.label} (${p.probability.toFixed(3)})  ${JSON.stringify(text)}  [${p.top_k.map((t) => `${t.label} ${t.probability.toFixed(3)}`).join(', ')}]`;
      },
    };
  },
};

/** The probability softmax gives class `c` of one row of logits. */
function softmaxAt(logits: Float32Array, c: number): number {
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  return Math.exp(logits[c]! - max) / sum;
}

/** The `limit` most confident mistakes seen so far, in bounded memory; ties keep the earlier row. */
class ConfidentMistakes {
  private kept: Mistake[] = [];
  constructor(private readonly limit: number) {}

  add(mistake: Mistake): void {
    this.kept.push(mistake);
    if (this.kept.length >= this.limit * 2) this.kept = this.worst();
  }

  worst(): Mistake[] {
    return [...this.kept].sort((a, b) => b.probability - a.probability).slice(0, this.limit);
  }
}
