import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery, type PipelineResult } from '../workflows/pipeline';
import type { PipelineProgress } from '../workflows/progress';

/**
 * A run's step table. A completed run's comes from its result in the history, so no worker has to
 * replay it (a worker busy training, or none at all, would leave the query waiting); an open or
 * failed run's is asked of a worker, undefined when none answers.
 */
export async function runProgress(handle: WorkflowHandle): Promise<PipelineProgress | undefined> {
  const description = await handle.describe();
  if (description.status.name === 'COMPLETED') {
    const result = (await handle.result()) as PipelineResult;
    return {
      pipeline: result.pipeline,
      status: result.status,
      params: result.params,
      steps: [...result.steps],
      startedAt: description.startTime.getTime(),
      ...(description.closeTime && { endedAt: description.closeTime.getTime() }),
      ...(result.report && { report: result.report }),
    };
  }
  return queryProgress(handle);
}

/** A run's step table as a worker answers it; undefined when none does (not started yet, or no worker left). */
export async function queryProgress(handle: WorkflowHandle): Promise<PipelineProgress | undefined> {
  try {
    return await handle.query(progressQuery);
  } catch {
    return undefined;
  }
}
