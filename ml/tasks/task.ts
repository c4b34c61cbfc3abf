import type * as Tf from '@tensorflow/tfjs';
import type { Metric, TrainTask } from '../../core/metrics';
import type { CurvePoint } from '../metrics/out-of-scope-metrics';
import type { Row } from '../../store/arrow-io';
import type { EncoderHead } from '../models/encoder';
import type { EncoderModel } from '../models/encoder-model';
import type { TokenizerFile } from '../tokenizers/tokenizer-file';
import type { ReplyBatch, ReplyRequest } from '../generation/reply-batch';
import type { EncoderBatch } from './encoder-objective';

/** Precision, recall and F1 of one class (classification) or entity type (token classification). */
export interface ClassScore {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** What evaluating a model on labelled rows gave: the task's metrics and the detail behind them. */
export interface TaskEvaluation {
  /** Every metric the task reports (TASK_METRICS), by name. */
  readonly metrics: Readonly<Partial<Record<Metric, number>>>;
  /** Rows (texts) scored. */
  readonly rows: number;
  readonly perClass: readonly ClassScore[];
  /** confusion[actual][predicted] counts over the model's classes, when the task keeps one. */
  readonly confusion?: readonly (readonly number[])[];
  /** Counts that explain the metrics, by name (question answering: windows, windows without the answer). */
  readonly counts?: Readonly<Record<string, number>>;
  /** The first rows' generations beside their targets (sequence to sequence). */
  readonly examples?: readonly GeneratedExample[];
  /** The rows the model was most confidently wrong about (classification). */
  readonly mistakes?: readonly Mistake[];
  /** The first rows whose predicted tags differ from the gold ones (token classification). */
  readonly tagged?: readonly TaggedExample[];
  /** How out-of-scope rows were scored, when they were (classification with Scoring.outOfScope). */
  readonly outOfScope?: OutOfScopeCounts;
}

/**
 * Out-of-scope scoring in a report: the class name, the rejection threshold, how many rows were
 * out of scope and how many predictions were rejected, and what other thresholds would give. The
 * confusion matrix and the per-class scores then have this class after the model's.
 */
export interface OutOfScopeCounts {
  readonly label: string;
  readonly reject_below: number;
  readonly rows: number;
  readonly rejected: number;
  readonly curve: readonly CurvePoint[];
}

/** How many rows a report shows as examples: generations, mistakes, tagged sentences. */
export const REPORTED_ROWS = 10;

/** A row the model got wrong: its text (when the dataset keeps a `text` column), the true class, and what it predicted how surely. */
export interface Mistake {
  readonly text: string;
  readonly actual: string;
  readonly predicted: string;
  /** The probability the model gave its most likely class (for a rejected prediction, the one below the threshold). */
  readonly probability: number;
}

/** One sentence of a token-classification dataset: its words (from its `tokens` column) with the gold and the predicted tag of each. */
export interface TaggedExample {
  readonly words: readonly string[];
  readonly actual: readonly string[];
  readonly predicted: readonly string[];
}

/** One validation row of a generating model: its source (turns), the target text and what the model generated. */
export interface GeneratedExample {
  readonly source: readonly string[];
  readonly target: string;
  readonly generated: string;
}

/** The train settings a task keeps in its checkpoints (Task.settingKeys), by key. */
export type TaskSettings = Readonly<Record<string, unknown>>;

/** What a task scores a model with besides its batches. */
export interface Scoring {
  /** The names of the model's classes by id. */
  readonly classNames: readonly string[];
  /** The checkpoint's task settings. */
  readonly settings: TaskSettings;
  /** Hears the rows scored so far. */
  readonly onBatch?: (rows: number) => void;
  /** Classification: how rows of none of the classes (label_id -1) are told apart; unset, there are none. */
  readonly outOfScope?: OutOfScope;
}

/**
 * Out-of-scope detection: a prediction whose top probability is below `rejectBelow` is rejected,
 * i.e. predicted out of scope; reports name that class `label`.
 */
export interface OutOfScope {
  readonly label: string;
  readonly rejectBelow: number;
}

/** One input to answer, by field: `text` for the text tasks, `question` and `context` for question answering. */
export type Instance = Readonly<Record<string, string>>;

/** One instance to answer and how many alternatives the caller wants (top labels or answer spans). */
export interface PredictRequest {
  readonly instance: Instance;
  readonly topK: number;
}

/** An instance a predictor cannot answer (e.g. a question too long for the model's window); the message says why. */
export class InvalidInstanceError extends Error {
  override name = 'InvalidInstanceError';
}

/** A trained model answering raw texts, as `pipewright predict` and the server do. */
export interface TextPredictor {
  /** Throws InvalidInstanceError for an instance it cannot answer, before any is run. */
  check?(instance: Instance): void;
  /** One JSON-ready answer per request, in order, from one forward pass. */
  predict(requests: readonly PredictRequest[]): object[];
  /** One line for the terminal about an instance and its answer. */
  describe(instance: Instance, prediction: object): string;
  /** A model that generates text also holds conversations (OpenAI's chat completions). */
  readonly chat?: ChatModel;
}

/** A generating model as a chat endpoint sees it. */
export interface ChatModel {
  /** The most source tokens the model reads. */
  readonly contextTokens: number;
  /** The most tokens a reply may have (the model's positions). */
  readonly maxReplyTokens: number;
  /** A reply's length unless the request says otherwise (the checkpoint's generation settings). */
  readonly defaultReplyTokens: number;
  /** The source ids of a conversation's turns (oldest first), as many turns as training kept; not cut. */
  encode(turns: readonly string[]): number[];
  /** Starts decoding replies together. */
  replies(requests: readonly ReplyRequest[]): ReplyBatch;
}

/**
 * One task a `train` step can learn, as ml/train, `validate` and checkpoints see it: the head it
 * puts on the encoder, the names of what the head predicts, how rows become batches and how
 * predictions are scored. A task is one file in ml/tasks/ and one line in the registry.
 */
export interface Task<B extends EncoderBatch = EncoderBatch> {
  readonly name: TrainTask;
  readonly head: EncoderHead;
  /** The names of the head's classes by id, from the tokenizer the rows were encoded with. */
  classNames(tokenizer: Pick<TokenizerFile, 'labels' | 'tags' | 'vocab'>): readonly string[];
  /** What to do when the tokenizer has too few names for this task. */
  readonly missingNamesHint: string;
  /** Train settings (keys of the step's `with`) the task reads after training; checkpoints keep them. */
  readonly settingKeys?: readonly string[];
  /** The text fields a served instance has; with one, a bare string is accepted as it. */
  readonly instanceFields: readonly string[];
  /** The columns a padded dataset needs for this task (checked before training starts). */
  readonly columns: readonly string[];
  /**
   * Packs padded rows into a batch; throws TrainingDataError naming the row for one it cannot use.
   * `outOfScope`: keep rows of none of the classes (label_id -1), which only validate's
   * `out_of_scope` scores (classification).
   */
  batch(rows: readonly Row[], classes: number, outOfScope?: boolean): B;
  /** Scores the model without dropout over labelled batches. */
  evaluate(tf: typeof Tf, model: EncoderModel, batches: AsyncIterable<B>, scoring: Scoring): Promise<TaskEvaluation>;
  /** One line for logs and step summaries. */
  summarize(evaluation: TaskEvaluation): string;
  /** The model answering raw texts; throws for a tokenizer the task cannot serve with. */
  createPredictor(
    tf: typeof Tf,
    model: EncoderModel,
    tokenizer: TokenizerFile,
    classNames: readonly string[],
    settings: TaskSettings,
  ): TextPredictor;
}
