/**
 * What a user does about a failure:
 * - `input`: the data, a setting or a file the pipeline names is wrong — fix it and run again;
 * - `environment`: the machine a worker runs on cannot do it (a full disk, no permission) — mend it;
 * - `integrity`: a stored artifact no longer matches its digest or is gone — rebuild it;
 * - `gate`: the pipeline's own rules ended the run (an approval not given in time, training
 *   stopped before an epoch finished) — nothing is broken;
 * - `defect`: Pipewright itself went wrong — report it;
 * - `conflict`: something else changed the same state at the same time — trying again may settle it.
 * Only a conflict is worth retrying; an error that declares no kind (a lost connection, a full
 * disk, a killed process) is retried under the step's retry policy.
 */
export type FailureKind = 'input' | 'environment' | 'integrity' | 'gate' | 'defect' | 'conflict';

/**
 * Every failure type a step or a run can end with, and its kind. The type is the error's `name`,
 * which Temporal records as the failure's type in the run's history. (A run whose step failed
 * ends with the `StepFailed` failure, whose cause is the step's.)
 */
export const FAILURE_TYPES = {
  InvalidPipeline: 'input',
  InvalidStepInput: 'input',
  ExpressionEvalError: 'input',
  DataPathError: 'input',
  SourceDataError: 'input',
  TooManyBadRows: 'input',
  DatasetSchemaError: 'input',
  VocabularyError: 'input',
  CheckpointVocabularyError: 'input',
  RowEncodingError: 'input',
  Seq2SeqEncodingError: 'input',
  EncoderConfigError: 'input',
  FreezeError: 'input',
  PretrainedError: 'input',
  SafetensorsError: 'input',
  CheckpointError: 'input',
  TrainingDataError: 'input',
  ThresholdError: 'input',
  RegistryError: 'input',
  RegistryConflict: 'conflict',
  ApprovalTimedOut: 'gate',
  TrainingStopped: 'gate',
  ArtifactIntegrityError: 'integrity',
  StoreWriteError: 'environment',
  GraphShapeError: 'defect',
  GradientError: 'defect',
} as const satisfies Record<string, FailureKind>;

export type FailureType = keyof typeof FAILURE_TYPES;

/** What to do about a failure of each kind, as the CLI says it after the failure's own message. */
export const FAILURE_ADVICE: Readonly<Record<FailureKind, string>> = {
  input: 'fix the pipeline or its data and run it again; steps that already succeeded are taken from the cache',
  environment: "the worker's machine needs mending as the message says; then run again",
  gate: "the pipeline's own rule that the message names ended the run; nothing needs mending",
  integrity: 'a stored artifact is missing or damaged: run again with --no-cache to rebuild it from its sources',
  defect: 'this is a defect in Pipewright; please report it with the run id and what `pipewright status <id>` shows',
  conflict: 'another run changed the same state at the same time; run again',
};

/** The kind of a failure type, or undefined for a type that is not ours (a timeout, a cancellation). */
export function failureKind(type: string): FailureKind | undefined {
  return Object.hasOwn(FAILURE_TYPES, type) ? FAILURE_TYPES[type as FailureType] : undefined;
}

/** An error raised on purpose, whose type says what went wrong and whose kind says what to do. */
export abstract class PipewrightFailure extends Error {
  abstract override readonly name: FailureType;
  abstract readonly kind: FailureKind;
  /** Trying again cannot help (Temporal's word for it): only a conflict may settle by itself. */
  get nonRetryable(): boolean {
    return this.kind !== 'conflict';
  }
}

/** The base class of the errors of one failure type: `class SourceDataError extends failureClass('SourceDataError')`. */
export function failureClass<T extends FailureType>(type: T) {
  return class extends PipewrightFailure {
    override readonly name: T = type;
    readonly kind: FailureKind = FAILURE_TYPES[type];
  };
}
