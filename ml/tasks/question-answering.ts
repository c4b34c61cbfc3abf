import { squadScores } from '../metrics/squad-metrics';
import { spanLogits } from '../models/encoder';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { ANSWER_DEFAULTS } from '../../core/contracts/train';
import { bestAnswers, windowCandidates, type AnswerSpan, type SpanOptions } from './answer-spans';
import { encodeQuestionContext } from '../tokenizers/task-encoding';
import { wordPieceFromFile } from '../tokenizers/tokenizer-file';
import { predictRows, sequenceLogits, type EncoderBatch } from './encoder-objective';
import { InvalidInstanceError, type Task, type TaskSettings } from './task';

/** A span as served: the answer's text, its [start, end) UTF-16 offsets in the context, and its probability. */
export interface ServedSpan {
  readonly answer: string;
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

/** The best answer to a question about a context, and the `top_k` best (the best first). */
export interface AnswerPrediction extends ServedSpan {
  readonly top_k: readonly ServedSpan[];
}

const served = (span: AnswerSpan): ServedSpan => ({
  answer: span.text,
  start: span.start,
  end: span.end,
  score: span.probability,
});

/** How answers are read, from a checkpoint's `answers` setting (n_best, max_answer_length); defaults where unset. */
export function spanOptions(settings: TaskSettings): SpanOptions {
  const answers = (settings.answers ?? {}) as { n_best?: number; max_answer_length?: number };
  return {
    nBest: answers.n_best ?? ANSWER_DEFAULTS.n_best,
    maxAnswerLength: answers.max_answer_length ?? ANSWER_DEFAULTS.max_answer_length,
  };
}

/** Windows of serving when the tokenizer does not say how training cut them. */
const SERVING_WINDOWS = { maxLength: 384, stride: 128 };

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
  instanceFields: ['question', 'context'],
  settingKeys: ['answers'],
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

  async evaluate(tf, model, batches, { settings, onBatch }) {
    const spans = spanOptions(settings);
    const examples = new Map<
      string,
      { context: string; golds: readonly string[]; candidates: ReturnType<typeof windowCandidates> }
    >();
    let lossSum = 0;
    let windows = 0;
    let withoutAnswer = 0;
    for await (const batch of batches) {
      const rows = predictRows(tf, model, batch, true);
      const logits = rows.logits!;
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
              start: logits.subarray(2 * r * t, (2 * r + 1) * t),
              end: logits.subarray((2 * r + 1) * t, (2 * r + 2) * t),
              contextStart: window.contextStart,
              contextEnd: window.contextEnd,
            },
            spans,
          ),
        );
        examples.set(window.example, example);
      });
      onBatch?.(windows);
    }
    const answered = [...examples.values()].filter((e) => e.golds.length > 0);
    const scores = squadScores(
      answered.map((e) => ({
        prediction: bestAnswers(e.candidates, e.context, spans)[0]!.text,
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

  /**
   * Answers questions about contexts: each context is cut into windows as training cut them (the
   * tokenizer records how), every window of every request goes through one forward pass, and the
   * best spans over a question's windows are its answers.
   */
  createPredictor(tf, model, file, _classNames, settings) {
    const spans = spanOptions(settings);
    const tokenizer = wordPieceFromFile(file, 'question_answering');
    const windows = file.windows ?? SERVING_WINDOWS;
    const maxLength = Math.min(windows.maxLength, model.config.maxLength);
    const options = { maxLength, stride: Math.min(windows.stride, Math.floor(maxLength / 4)) };
    const encode = (instance: Readonly<Record<string, string>>) => {
      try {
        return encodeQuestionContext(tokenizer, instance.question!, instance.context!, undefined, options);
      } catch (error) {
        throw new InvalidInstanceError(`${(error as Error).message}; ask a shorter question`);
      }
    };
    return {
      check(instance) {
        encode({ ...instance, context: '.' });
      },
      predict(requests): AnswerPrediction[] {
        const encoded = requests.map((r) => encode(r.instance));
        const all = encoded.flat();
        const { logits, length } = sequenceLogits(
          tf,
          model,
          all.map((w) => w.inputIds),
          all.map((w) => w.tokenTypeIds),
          tokenizer.padId,
        );
        let at = 0;
        return requests.map((request, r) => {
          const candidates = encoded[r]!.flatMap((w) => {
            const row = at++;
            return windowCandidates(
              {
                start: logits.subarray(2 * row * length, (2 * row + 1) * length),
                end: logits.subarray((2 * row + 1) * length, (2 * row + 2) * length),
                contextStart: w.contextOffsets.map((o) => o[0]),
                contextEnd: w.contextOffsets.map((o) => o[1]),
              },
              spans,
            );
          });
          const answers = bestAnswers(candidates, request.instance.context!, {
            ...spans,
            nBest: Math.max(spans.nBest, request.topK),
          });
          return { ...served(answers[0]!), top_k: answers.slice(0, request.topK).map(served) };
        });
      },
      describe({ question }, prediction) {
        const p = prediction as AnswerPrediction;
        return `${JSON.stringify(p.answer)} [${p.start}, ${p.end}) ${p.score.toFixed(3)}  ← ${JSON.stringify(question)}`;
      },
    };
  },
};
