import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, StepInput, StepResult, TrainCancellation, TrainSettings } from '../activities';
import { mainMetric, TASK_METRICS, type Metric } from '../core/metrics';
import type { ArtifactRef } from '../core/artifacts';
import { activityOptions } from './activity-options';
import { bestEpoch, retainedCheckpoints, shouldStopEarly, type EpochRecord } from './training-policy';
import { trainingMarkdown, type TrainingProgress } from './training-progress';
import type { FailureType } from '../core/failures';
import type { PlanPolicy } from '../core/plan';

/** Input of the `training` child workflow that a pipeline's `train` step starts. */
export interface TrainingInput {
  /** The train step's input as the pipeline would hand an activity: the run, `with:`, and the wired datasets. */
  readonly step: StepInput;
  /** Retry and timeouts of the `train` activity, from the step's YAML or the contract's defaults. */
  readonly policy: PlanPolicy;
  /** Those of the loop's other activities (batch, validate, checkpoint), from the plan. */
  readonly loop: Readonly<Record<string, PlanPolicy>>;
  /** What earlier runs of this workflow did, carried across continue-as-new. */
  readonly carried?: Carried;
}

interface Carried {
  readonly epochs: readonly EpochRecord[];
  readonly kept: readonly ArtifactRef[];
  readonly startedAt: number;
}

/** What a training workflow returns: the step's result, and its epoch table as the trainingProgress query would answer. */
export interface TrainingResult extends StepResult {
  readonly training: TrainingProgress;
}

/** Stops training after the current epoch; the best model so far is the step's output. */
export const stopTrainingSignal = defineSignal<[reason?: string]>('stopTraining');
export const trainingProgressQuery = defineQuery<TrainingProgress>('trainingProgress');
/** Sent by a training workflow to its parent pipeline after each epoch, with a one-line summary. */
export const stepProgressSignal = defineSignal<[stepId: string, summary: string]>('stepProgress');

/**
 * The epoch loop of a `train` step: per epoch `batch` (the epoch's shuffle), `train`, `checkpoint`
 * (verify, retention) and `validate`; early stopping and best-model selection happen here, so every
 * decision is in the history.
 */
export async function training(input: TrainingInput): Promise<TrainingResult> {
  // The plan carries every default (compile fills them in).
  const settings = input.step.with as TrainSettings;
  const metrics = TASK_METRICS[settings.task];
  const monitor = settings.monitor ?? mainMetric(settings.task);
  const { train: trainSet, validation, tokenizer } = input.step.inputs as Record<string, ArtifactRef>;
  const maxLength = trainSet?.meta?.max_length;
  if (typeof maxLength !== 'number')
    throw ApplicationFailure.create({
      message: 'the train input has no max_length: pass it through a pad step before training',
      type: 'InvalidStepInput' satisfies FailureType,
      nonRetryable: true,
    });
  const info = workflowInfo();
  const self = { workflowId: info.workflowId, runId: info.runId, pipeline: input.step.run.pipeline };
  const carried = input.carried;
  const epochs = [...(carried?.epochs ?? [])];
  let kept = [...(carried?.kept ?? [])];
  const startedAt = carried?.startedAt ?? Date.now();
  let stopReason: string | undefined;
  const progress: TrainingProgress = {
    step: input.step.stepId,
    status: 'training',
    epochs: settings.epochs,
    monitor,
    metrics,
    history: epochs,
    startedAt,
  };
  setHandler(trainingProgressQuery, () => progress, {
    description:
      'The epoch table: each finished epoch’s train loss, validation metrics, speed and checkpoint; the epoch in flight.',
  });
  setHandler(
    stopTrainingSignal,
    (reason) => {
      stopReason = reason ?? 'stop requested';
    },
    { description: 'Ends training after the current epoch, keeping the best model; the argument is the reason shown.' },
  );
  const publish = () => {
    progress.history = epochs;
    setCurrentDetails(trainingMarkdown(progress, Date.now()));
  };
  publish();

  const proxy = (policy: PlanPolicy | undefined, name: string) => {
    if (!policy)
      throw ApplicationFailure.create({
        message: `the plan gives the epoch loop's ${name} activity no policy: it was compiled by an older Pipewright; start the run again`,
        type: 'InvalidPipeline' satisfies FailureType,
        nonRetryable: true,
      });
    return proxyActivities<Activities>(activityOptions(policy, info.taskQueue));
  };
  const { batch } = proxy(input.loop.batch, 'batch');
  const { validate } = proxy(input.loop.validate, 'validate');
  const { checkpoint } = proxy(input.loop.checkpoint, 'checkpoint');
  const { train } = proxy(input.policy, 'train');
  // A cancelled run's table says where training stopped and what was saved, not a stale "running".
  let saved: TrainCancellation | undefined = epochs.at(-1) && {
    epoch: epochs.at(-1)!.epoch,
    step: epochs.at(-1)!.step,
    checkpoint: epochs.at(-1)!.checkpoint,
  };
  const recordCancel = (where: TrainCancellation | undefined) => {
    progress.status = 'cancelled';
    progress.cancelled = where ?? saved ?? { epoch: progress.current?.epoch ?? epochs.length + 1, step: 0 };
    progress.current = undefined;
    publish();
  };
  CancellationScope.current().cancelRequested.catch(() => recordCancel(undefined));
  /** The train activity, noting what it saved: its epoch's checkpoint, or on cancel the one it wrote as it stopped. */
  const trainNoting = async (epochInput: Parameters<typeof train>[0]) => {
    try {
      const trained = await train(epochInput);
      saved = { epoch: epochInput.epoch + 1, step: trained.step, checkpoint: trained.checkpoint };
      if (progress.status === 'cancelled') recordCancel(saved);
      return trained;
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : error;
      if (cause instanceof CancelledFailure && cause.details.length > 0)
        recordCancel(cause.details[0] as TrainCancellation);
      throw error;
    }
  };
  const stepInput = (suffix: string, withValues: Record<string, unknown>, inputs: Record<string, ArtifactRef>) => ({
    run: input.step.run,
    stepId: `${input.step.stepId}.${suffix}`,
    with: withValues,
    inputs,
    cache: input.step.cache,
  });
  const released: ArtifactRef[] = [];

  for (let e = epochs.length; e < settings.epochs && stopReason === undefined; e++) {
    progress.current = { epoch: e + 1, phase: 'shuffling' };
    publish();
    const shuffled = await batch(
      stepInput(
        'batch',
        { batch_size: settings.batch_size, seed: settings.seed, epoch: e, shuffle: true },
        { dataset: trainSet! },
      ),
    );
    const batchesPerEpoch = shuffled.outputs.batches;
    progress.current = { epoch: e + 1, phase: 'training' };
    publish();
    const previous = epochs.at(-1)?.checkpoint;
    const trained = await trainNoting({
      run: self,
      stepId: input.step.stepId,
      settings,
      tokenizer: tokenizer!,
      batches: shuffled.outputs.dataset,
      batchesPerEpoch,
      epoch: e,
      maxLength,
      ...(previous && { resume: previous }),
    });
    progress.current = { epoch: e + 1, phase: 'validating' };
    publish();
    await checkpoint({
      run: self,
      pipelineRun: input.step.run,
      stepId: input.step.stepId,
      commit: { checkpoint: trained.checkpoint, epoch: e },
      kept: [...kept, trained.checkpoint],
      release: released.splice(0),
    });
    const scored = await validate(
      stepInput('validate', { batch_size: 64 }, { model: trained.checkpoint, dataset: validation! }),
    );
    epochs.push({
      epoch: e + 1,
      checkpoint: trained.checkpoint,
      step: trained.step,
      trainLoss: trained.meanLoss,
      samplesPerSecond: trained.samplesPerSecond,
      seconds: trained.seconds,
      validation: Object.fromEntries(metrics.map((m) => [m, scored.outputs[m]])),
      report: scored.outputs.metrics,
      ...(trained.resumedAt && { resumedAt: trained.resumedAt }),
    });
    const keep = retainedCheckpoints(epochs, monitor, settings.keep_last, settings.keep_best);
    released.push(...[...kept, trained.checkpoint].filter((c) => !keep.has(c.sha256)));
    kept = [...kept, trained.checkpoint].filter((c) => keep.has(c.sha256));
    progress.current = undefined;
    progress.backend = trained.backend;
    publish();
    if (
      e + 1 < settings.epochs &&
      settings.early_stopping &&
      shouldStopEarly(epochs, monitor, settings.early_stopping.patience, settings.early_stopping.min_delta)
    ) {
      stopReason = `early stopping: ${monitor} did not improve for ${settings.early_stopping.patience} epoch(s)`;
    }
    await reportToParent(input.step.stepId, epochSummary(epochs, settings.epochs, monitor, metrics, startedAt));
    if (stopReason === undefined && e + 1 < settings.epochs && historyIsLong(settings.history_limit)) {
      if (released.length > 0)
        await checkpoint({
          run: self,
          pipelineRun: input.step.run,
          stepId: input.step.stepId,
          kept,
          release: released.splice(0),
        });
      await continueAsNew<typeof training>({
        ...input,
        carried: { epochs, kept, startedAt },
      });
    }
  }

  const best = bestEpoch(epochs, monitor);
  if (!best)
    throw ApplicationFailure.create({
      message: `training stopped before the first epoch finished (${stopReason})`,
      type: 'TrainingStopped' satisfies FailureType,
      nonRetryable: true,
    });
  const last = epochs.at(-1)!;
  const outputs = {
    model: best.checkpoint,
    last: last.checkpoint,
    metrics: best.report,
    ...best.validation,
    best_epoch: best.epoch,
    epochs: epochs.length,
    stopped_early: stopReason !== undefined,
  };
  await checkpoint({
    run: self,
    pipelineRun: input.step.run,
    stepId: input.step.stepId,
    kept,
    release: released.splice(0),
    outputs,
  });
  progress.status = stopReason === undefined ? 'finished' : 'stopped';
  progress.stopReason = stopReason;
  publish();
  const ending = stopReason === undefined ? '' : ` (${stopReason})`;
  return {
    outputs,
    summary: `${epochs.length} epoch(s), best ${best.epoch}: val ${scores(
      best,
      metrics.filter((m) => m !== 'loss'),
    )}${ending}`,
    cached: false,
    training: progress,
  };
}

function historyIsLong(limit: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= limit;
}

/** One line for the parent's step table: epoch, losses, validation scores, ETA. */
function epochSummary(
  epochs: readonly EpochRecord[],
  total: number,
  monitor: Metric,
  metrics: readonly Metric[],
  startedAt: number,
): string {
  const last = epochs.at(-1)!;
  const elapsed = Date.now() - startedAt;
  const eta = (elapsed / epochs.length) * (total - epochs.length);
  const shown = metrics.filter((m) => m !== 'loss' && (m === monitor || m === metrics[0] || m === 'accuracy'));
  return `epoch ${epochs.length}/${total} · loss ${last.trainLoss.toFixed(4)} · val ${scores(last, shown)} (${monitor}) · ETA ${Math.round(eta / 1000)}s`;
}

/** `name value` pairs of an epoch's validation metrics. */
function scores(epoch: EpochRecord, metrics: readonly Metric[]): string {
  return metrics.map((m) => `${m} ${(epoch.validation[m] ?? Number.NaN).toFixed(4)}`).join(' ');
}

async function reportToParent(stepId: string, summary: string): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  try {
    await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(stepProgressSignal, stepId, summary);
  } catch {
    // Progress is best effort: a parent that has already ended needs none.
  }
}
