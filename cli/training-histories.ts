import type { WorkflowHandle } from '@temporalio/client';
import { trainingProgressQuery, type TrainingResult } from '../workflows/training';
import { trainingWorkflowId, type TrainingProgress } from '../workflows/training-progress';
import type { PipelineProgress } from '../workflows/progress';

const QUERY_DEADLINE_MS = 5_000;

/**
 * The epoch history of each train step of a run that has started training: a finished training
 * workflow's from its result (no worker needed), a running one's asked of a worker; steps whose
 * training cannot be read (not started, no worker answering) are left out.
 */
export async function trainingHistories(
  pipeline: WorkflowHandle,
  progress: PipelineProgress,
): Promise<TrainingProgress[]> {
  const found: TrainingProgress[] = [];
  for (const step of progress.steps) {
    if (step.uses !== 'train' || step.status === 'pending' || step.status === 'skipped') continue;
    const child = pipeline.client.getHandle(trainingWorkflowId(pipeline.workflowId, step.id));
    try {
      const { status } = await child.describe();
      // Runs from before training results carried the table are asked, like running ones.
      const finished =
        status.name === 'COMPLETED' ? ((await child.result()) as Partial<TrainingResult>).training : undefined;
      found.push(
        finished ??
          // A worker busy with a long step may not answer soon; the table is not worth waiting for.
          (await pipeline.client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
            child.query(trainingProgressQuery),
          )),
      );
    } catch {
      // A cached train step has no training workflow; a running one may have no worker to answer.
    }
  }
  return found;
}
