import { readMetricsReport, type MetricsReport } from '../ml/metrics/metrics-report';
import { readCheckpointManifest } from '../ml/train/checkpoint';
import { learningRate } from '../ml/train/lr-schedule';
import type { ArtifactStore } from '../store/artifact-store';
import { lineageOf, type LineageNode } from '../store/lineage';
import type { RunRecords } from '../store/run-records';
import { isArtifactRef } from '../store/step-cache';
import type { ArtifactRef } from '../core/artifacts';
import type { PipelineProgress, StepProgress } from '../workflows/progress';
import type { TrainingProgress } from '../workflows/training-progress';

/** What a run report is made of that only Temporal knows: the run's progress and each train step's epochs. */
export interface RunFacts {
  readonly workflowId: string;
  readonly progress: PipelineProgress;
  readonly trainings: readonly TrainingProgress[];
}

/** One train step: its epochs and the learning rate its schedule gave at each step. */
export interface TrainingSection {
  readonly progress: TrainingProgress;
  readonly learningRate: readonly (readonly [step: number, rate: number])[];
}

/** Everything a run report shows, gathered from the run's facts and the artifact store. */
export interface RunReport {
  readonly workflowId: string;
  readonly progress: PipelineProgress;
  readonly trainings: readonly TrainingSection[];
  /** Every metrics report a step of the run produced, by step and output name. */
  readonly evaluations: readonly { readonly step: string; readonly output: string; readonly report: MetricsReport }[];
  /** The deploy steps that ran, with their decision. */
  readonly deploys: readonly StepProgress[];
  /** The provenance of each model a train step produced, back to its source files. */
  readonly lineage: readonly { readonly step: string; readonly model: LineageNode }[];
}

/** Points of a learning-rate curve drawn per training (a schedule is a few straight or cosine pieces). */
const SCHEDULE_POINTS = 200;

/** Reads what the run's step outputs refer to: metrics reports, the trained models' schedules and lineage. */
export async function gatherRunReport(store: ArtifactStore, facts: RunFacts): Promise<RunReport> {
  const steps = facts.progress.steps;
  const evaluations: RunReport['evaluations'][number][] = [];
  const lineage: RunReport['lineage'][number][] = [];
  for (const step of steps)
    for (const [output, value] of Object.entries(step.outputs ?? {})) {
      if (!isArtifactRef(value)) continue;
      if (value.kind === 'report')
        evaluations.push({ step: step.id, output, report: await readMetricsReport(store, value) });
      if (value.kind === 'checkpoint' && step.uses === 'train' && output === 'model')
        lineage.push({ step: step.id, model: await lineageOf(store, value.sha256) });
    }
  const trainings: TrainingSection[] = [];
  for (const progress of facts.trainings) {
    // The step's last checkpoint is kept with its outputs (epoch checkpoints may have been released).
    const last = steps.find((s) => s.id === progress.step)?.outputs?.last;
    const schedule = isArtifactRef(last) ? (await readCheckpointManifest(store, last)).position.schedule : undefined;
    const total = schedule?.totalSteps ?? 0;
    const points = Math.min(SCHEDULE_POINTS, total);
    trainings.push({
      progress,
      learningRate: schedule
        ? Array.from({ length: points }, (_, i) => {
            const step = Math.round((i * (total - 1)) / Math.max(1, points - 1));
            return [step, learningRate(schedule, step)] as const;
          })
        : [],
    });
  }
  return {
    workflowId: facts.workflowId,
    progress: facts.progress,
    trainings,
    evaluations,
    deploys: steps.filter((s) => s.uses === 'deploy' && s.outputs),
    lineage,
  };
}

/** The step name a run's HTML report is recorded under; step ids start with a letter or digit, so none collides. */
export const RUN_REPORT_RECORD = '@report';

/** The HTML report recorded for a run (the newest, should a run have been reported twice), if any. */
export async function recordedRunReport(runs: RunRecords, workflowId: string): Promise<ArtifactRef | undefined> {
  const found = (await runs.all())
    .filter(({ record }) => record.workflowId === workflowId && record.step === RUN_REPORT_RECORD)
    .sort((a, b) => b.writtenMs - a.writtenMs)[0]?.record.outputs.report;
  return isArtifactRef(found) ? found : undefined;
}
