import { squadScores } from '../metrics/squad-metrics';
import { spanLogits } from '../models/encoder';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { bestAnswers, SPAN_DEFAULTS, windowCandidates } from './answer-spans';
import { predictRows, type EncoderBatch } from './encoder-objective';
import type { Task } from './task';

/** What scoring needs of one window besides its logits: its example, the context and where its tokens are in it. */
interface WindowInfo {
  readonly example: string;
  readonly context: string;
  readonly golds: readonly string[];
  readonly contextStart: readonly number[];
  readonly contextEnd: readonly number[];
}

/**
 * A question-answering batch: the windows' token types, and per window two labels (the answer's
 * start and end token; both 0, [CLS], when the window does not hold the answer).
 */
export interface SpanBatch extends EncoderBatch {
  readonly types: Int32Array;
  readonly windows: readonly WindowInfo[];
}

function intList(row: Record<string, unknown>, column: string, r: number, width: number): number[] {
  const value = row[column];
  if (!Array.isArray(value) || value.length !== width)
    throw new TrainingDataError(
      `row ${r}: ${column} has ${Array.isArray(value) ? value.length : 'no'} entries for ${width} tokens: tokenize the data with task: question_answering, then pad it`,
    );
  return value as number[];
}

function position(row: Record<string, unknown>, column: string, r: number, width: number): number {
  const value = row[column];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= width)
    throw new TrainingDataError(
      `row ${r}: ${column} ${String(value)} is not a token position of the window (0..${width - 1}): tokenize with task: question_answering`,
    );
  return value;
}

/**
 * Extractive question answering: a span head scores every token of a `[CLS] question [SEP]
 * context [SEP]` window as the answer's start and as its end; the loss is the mean of the start and
 * end cross-entropies (a window without the answer points both at [CLS]). Predictions are the
 * best valid spans over all windows of a question (answer-spans.ts), scored with SQuAD v1.1's
 * exact match and F1 against every gold answer.
 */
export const questionAnswering: Task<SpanBatch> = {
  name: 'question_answering',
  head: { name: 'span', pooled: false, rowClasses: (_config, length) => length, logits: spanLogits },
  classNames: () => ['start', 'end'],
  missingNamesHint: 'tokenize the data with task: question_answering',
  columns: [
    'input_ids',
    'attention_mask',
    'token_type_ids',
    'start_position',
    'end_position',
    'context_start',
    'context_end',
    'example',
    'context',
    'answers',
  ],

  batch(rows): SpanBatch {
    const inputs = paddedInputs(rows);
    const types = new Int32Array(inputs.size * inputs.length);
    const labels = new Int32Array(2 * inputs.size);
    const windows = rows.map((row, r): WindowInfo => {
      const width = (row.input_ids as number[]).length;
      types.set(intList(row, 'token_type_ids', r, width), r * inputs.length);
      labels[2 * r] = position(row, 'start_position', r, width);
      labels[2 * r + 1] = position(row, 'end_position', r, width);
      const answers = row.answers as { text?: unknown } | null;
      return {
        example: String(row.example),
        context: typeof row.context === 'string' ? row.context : '',
        golds: Array.isArray(answers?.text) ? (answers.text as string[]) : [],
        contextStart: intList(row, 'context_start', r, width),
        contextEnd: intList(row, 'context_end', r, width),
      };
    });
    return { ...inputs, types, labels, windows };
  },

  async evaluate(tf, model, batches, _classNames, onBatch) {
    const examples = new Map<
      string,
      { context: string; golds: readonly string[]; candidates: ReturnType<typeof windowCandidates> }
    >();
    let lossSum = 0;
    let windows = 0;
    let withoutAnswer = 0;
    for await (const batch of batches) {
      const rows = predictRows(tf, model, batch);
      const t = batch.length;
      batch.windows.forEach((window, r) => {
        lossSum += rows.losses[2 * r]! + rows.losses[2 * r + 1]!;
        windows++;
        if (batch.labels[2 * r] === 0 && batch.labels[2 * r + 1] === 0) withoutAnswer++;
        const example = examples.get(window.example) ?? {
          context: window.context,
          golds: window.golds,
          candidates: [],
        };
        example.candidates.push(
          ...windowCandidates(
            {
              start: rows.logits.subarray(2 * r * t, (2 * r + 1) * t),
              end: rows.logits.subarray((2 * r + 1) * t, (2 * r + 2) * t),
              contextStart: window.contextStart,
              contextEnd: window.contextEnd,
            },
            SPAN_DEFAULTS,
          ),
        );
        examples.set(window.example, example);
      });
      onBatch?.(windows);
    }
    const answered = [...examples.values()].filter((e) => e.golds.length > 0);
    const scores = squadScores(
      answered.map((e) => ({
        prediction: bestAnswers(e.candidates, e.context, SPAN_DEFAULTS)[0]!.text,
        golds: e.golds,
      })),
    );
    return {
      metrics: { f1: scores.f1, exact_match: scores.exactMatch, loss: windows === 0 ? 0 : lossSum / (2 * windows) },
      rows: scores.questions,
      perClass: [],
      counts: { windows, windows_without_answer: withoutAnswer },
    };
  },

  summarize: ({ rows, metrics: m, counts }) =>
    `${rows} questions (${counts?.windows ?? 0} windows, ${counts?.windows_without_answer ?? 0} without the answer): EM ${m.exact_match!.toFixed(4)}, F1 ${m.f1!.toFixed(4)}, loss ${m.loss!.toFixed(4)}`,

  createPredictor() {
    throw new Error('serving question answering is not available yet');
  },
};
