import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TrainHeartbeat } from '../activities';
import { trainingWorkflowId } from '../workflows/training-progress';

/**
 * Step-level progress of a running train step, read from its `train` activity's last heartbeat
 * (the training workflow itself only learns per-epoch results).
 */
export async function liveTrainingLine(pipeline: WorkflowHandle, stepId: string): Promise<string | undefined> {
  try {
    const child = pipeline.client.getHandle(trainingWorkflowId(pipeline.workflowId, stepId));
    const { raw } = await child.describe();
    const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'train');
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    if (!payload) return undefined;
    const beat = defaultPayloadConverter.fromPayload<TrainHeartbeat>(payload);
    const attempt = (pending.attempt ?? 1) > 1 ? ` · attempt ${pending.attempt}` : '';
    return (
      `epoch ${beat.epoch + 1} batch ${beat.batch}/${beat.batches} · step ${beat.step}/${beat.totalSteps} · ` +
      `loss ${beat.loss.toFixed(4)} · lr ${beat.learningRate.toExponential(2)} · ${beat.samplesPerSecond.toFixed(0)} samples/s${attempt}`
    );
  } catch {
    return undefined;
  }
}
