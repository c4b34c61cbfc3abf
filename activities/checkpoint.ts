import { ArtifactIntegrityError } from '../store/artifact-store';
import { referencedDigests } from '../store/run-records';
import { asStepFailure } from './define-step';
import type { ActivityDeps } from './deps';
import type { CheckpointInput, CheckpointResult } from './training-io';

/**
 * The `checkpoint` activity: verifies an epoch's checkpoint against its SHA-256 and clears the
 * epoch's journal of mid-epoch checkpoints; records the epoch checkpoints retention keeps and deletes
 * those it dropped (unless a recorded run still refers to them); at the end records the train step's
 * outputs for the run.
 */
export function createCheckpointActivity(deps: ActivityDeps) {
  return async function checkpoint(input: CheckpointInput): Promise<CheckpointResult> {
    let verified = false;
    if (input.commit) {
      const { checkpoint, epoch } = input.commit;
      if (!(await deps.store.verify(checkpoint))) {
        throw asStepFailure(
          new ArtifactIntegrityError(
            `checkpoint ${checkpoint.sha256.slice(0, 12)} of epoch ${epoch + 1} is missing or does not match its SHA-256`,
            checkpoint.sha256,
          ),
        );
      }
      verified = true;
      const key = { workflowId: input.run.workflowId, runId: input.run.runId, step: input.stepId, epoch };
      for (const ref of await deps.journal.list(key))
        if (ref.sha256 !== checkpoint.sha256) await deps.store.remove(ref.sha256);
      await deps.journal.clear(key);
    }
    const record = (step: string, outputs: Readonly<Record<string, unknown>>) =>
      deps.runs.record({
        workflowId: input.pipelineRun.workflowId,
        runId: input.pipelineRun.runId,
        pipeline: input.pipelineRun.pipeline,
        step,
        activity: 'train',
        cached: false,
        finishedAt: new Date().toISOString(),
        outputs,
      });
    // Recorded before anything is released, so `pipewright gc` never takes a kept checkpoint.
    await record(`${input.stepId}.checkpoints`, { kept: input.kept });
    if (input.outputs) await record(input.stepId, input.outputs);
    let released = 0;
    if (input.release.length > 0) {
      const inUse = new Set((await deps.runs.all()).flatMap(({ record }) => referencedDigests(record.outputs)));
      for (const ref of input.release) {
        if (inUse.has(ref.sha256)) continue;
        await deps.store.remove(ref.sha256);
        released++;
      }
    }
    return { verified, released };
  };
}
