import type * as Tf from '@tensorflow/tfjs';
import type { ArtifactRef } from '../../core/artifacts';
import type { ArtifactStore } from '../../store/artifact-store';
import { EncoderModel } from '../models/encoder-model';
import { readCheckpoint, restoreFrom, type TrainingPosition } from '../train/checkpoint';
import { taskNamed } from './registry';
import type { Task, TaskSettings } from './task';

/** A model for inference built from a checkpoint: the task and architecture come from its manifest. */
export async function loadCheckpointModel(
  tf: typeof Tf,
  store: ArtifactStore,
  ref: ArtifactRef,
): Promise<{
  model: EncoderModel;
  task: Task;
  labels: readonly string[];
  settings: TaskSettings;
  position: TrainingPosition;
}> {
  const file = await readCheckpoint(store, ref);
  const task = taskNamed(file.manifest.task);
  const model = new EncoderModel(tf, file.manifest.config, task.head, undefined);
  try {
    const position = restoreFrom(tf, file, model);
    const labels = file.manifest.labels ?? Array.from({ length: model.config.classes }, (_, i) => String(i));
    return { model, task, labels, settings: file.manifest.taskSettings ?? {}, position };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
