import type * as Tf from '@tensorflow/tfjs';
import { hash32 } from '../../data/seeded-random';
import type { AdamW } from './adamw';
import type { TrainingPosition } from './checkpoint';
import { learningRate, type LrSchedule } from './lr-schedule';
import { trainStep, type Trainable } from './train-step';

/** What one epoch of training is asked to do. */
export interface EpochPlan {
  readonly schedule: LrSchedule;
  /** Checkpoint after every this many steps inside the epoch; 0 means only at the end. */
  readonly checkpointEvery: number;
  /** Batches in the epoch, for progress. */
  readonly batches: number;
}

/** Reported after every optimizer step. */
export interface StepReport {
  readonly epoch: number;
  readonly step: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly learningRate: number;
  readonly samplesPerSecond: number;
}

export interface EpochHooks {
  readonly onStep: (report: StepReport) => void;
  /** Persists the model and optimizer at `position` (mid-epoch, at the end, or when aborted). */
  readonly checkpoint: (position: TrainingPosition, reason: 'interval' | 'end' | 'abort') => Promise<void>;
  /** Once aborted, the epoch stops after the current step, checkpoints, and rethrows the reason. */
  readonly signal?: AbortSignal;
}

export interface EpochOutcome {
  readonly position: TrainingPosition;
  /** Mean training loss over the whole epoch, resumed parts included. */
  readonly meanLoss: number;
  /** Steps and samples trained by this call (a resumed epoch skips what was done before). */
  readonly steps: number;
  readonly samples: number;
  readonly seconds: number;
}

/** The dropout seed of a global step: training is reproducible from (seed, step) alone. */
export function dropoutSeed(seed: number, step: number): number {
  return hash32(seed, step, 0x64726f70);
}

/**
 * Trains one epoch from `start` (which may be mid-epoch: its first `batchInEpoch` batches are
 * skipped), checkpointing on the plan's interval and at the end.
 */
export async function trainEpoch<B extends { readonly size: number }>(
  tf: typeof Tf,
  model: Trainable<B>,
  optimizer: AdamW,
  batches: AsyncIterable<B>,
  start: TrainingPosition,
  plan: EpochPlan,
  hooks: EpochHooks,
): Promise<EpochOutcome> {
  let position: TrainingPosition = { ...start, step: optimizer.step, schedule: plan.schedule };
  let lossSum = start.epochLossSum ?? 0;
  let index = 0;
  let steps = 0;
  let samples = 0;
  const began = performance.now();
  for await (const batch of batches) {
    if (index++ < start.batchInEpoch) continue;
    const lr = learningRate(plan.schedule, optimizer.step);
    const { loss } = trainStep(tf, model, optimizer, batch, lr, dropoutSeed(start.seed, optimizer.step));
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} at step ${optimizer.step}`);
    lossSum += loss;
    steps++;
    samples += batch.size;
    position = { ...position, step: optimizer.step, batchInEpoch: index, epochLossSum: lossSum };
    hooks.onStep({
      epoch: position.epoch,
      step: optimizer.step,
      batch: index,
      batches: plan.batches,
      loss,
      learningRate: lr,
      samplesPerSecond: samples / ((performance.now() - began) / 1000),
    });
    if (hooks.signal?.aborted) {
      await hooks.checkpoint(position, 'abort');
      throw hooks.signal.reason;
    }
    if (plan.checkpointEvery > 0 && index % plan.checkpointEvery === 0 && index < plan.batches)
      await hooks.checkpoint(position, 'interval');
    // Let heartbeats and cancellation through between steps.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await hooks.checkpoint(position, 'end');
  return {
    position,
    meanLoss: index === 0 ? 0 : lossSum / index,
    steps,
    samples,
    seconds: (performance.now() - began) / 1000,
  };
}
