import type { TrainSettings } from '../core/contracts/train';
import type { ArtifactRef } from '../core/artifacts';
import type { StepInput } from './step-io';

export type { TrainSettings } from '../core/contracts/train';

/** Input of the `train` activity: one epoch. */
export interface TrainEpochInput {
  readonly run: StepInput['run'];
  readonly stepId: string;
  readonly settings: TrainSettings;
  readonly tokenizer: ArtifactRef;
  /** The epoch's rows from the `batch` activity, one record batch per training batch. */
  readonly batches: ArtifactRef;
  readonly batchesPerEpoch: number;
  /** 0-based. */
  readonly epoch: number;
  /** Sequence length the rows were padded to (the model's maximum length). */
  readonly maxLength: number;
  /** The previous epoch's checkpoint; absent for the first epoch. */
  readonly resume?: ArtifactRef;
}

export interface TrainEpochResult {
  readonly checkpoint: ArtifactRef;
  readonly step: number;
  readonly meanLoss: number;
  readonly samplesPerSecond: number;
  readonly seconds: number;
  /** Set when this attempt continued from a checkpoint written inside the epoch by an earlier attempt. */
  readonly resumedAt?: { readonly step: number; readonly batch: number };
  readonly backend: string;
}

/** What the `train` activity heartbeats: progress, and the newest checkpoint of the epoch. */
export interface TrainHeartbeat {
  readonly epoch: number;
  readonly step: number;
  readonly totalSteps: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly learningRate: number;
  readonly samplesPerSecond: number;
  readonly checkpoint?: ArtifactRef;
}

/** Where a cancelled `train` activity stopped, as the details of its cancellation: the epoch (1-based), the step, what it saved. */
export interface TrainCancellation {
  readonly epoch: number;
  readonly step: number;
  readonly checkpoint?: ArtifactRef;
}

/** Input of the `checkpoint` activity: commit an epoch's checkpoint, let go of those retention dropped. */
export interface CheckpointInput {
  readonly run: StepInput['run'];
  readonly stepId: string;
  /** The checkpoint to verify and keep; the epoch's journal is cleared once it verifies. */
  readonly commit?: { readonly checkpoint: ArtifactRef; readonly epoch: number };
  /** Epoch checkpoints no longer kept by keep_last / keep_best. */
  readonly release: readonly ArtifactRef[];
  /** The pipeline run the train step belongs to; its records keep artifacts from gc. */
  readonly pipelineRun: StepInput['run'];
  /** Epoch checkpoints kept so far, recorded under the pipeline run while training goes on. */
  readonly kept: readonly ArtifactRef[];
  /** The train step's final outputs, recorded under the pipeline run at the end. */
  readonly outputs?: Readonly<Record<string, unknown>>;
}

export interface CheckpointResult {
  readonly verified: boolean;
  readonly released: number;
}
