import { join } from 'node:path';
import { FileArtifactStore } from '../store/artifact-store';
import { CheckpointJournal } from '../store/checkpoint-journal';
import { ModelRegistry } from '../store/model-registry';
import { RunRecords } from '../store/run-records';
import { StepCache } from '../store/step-cache';
import type { PipewrightConfig } from './config';

/** The state folder's parts: artifacts, the step cache, run records, the training checkpoint journal, the model registry. */
export function openLocalState(config: Pick<PipewrightConfig, 'home'>) {
  const store = new FileArtifactStore(join(config.home, 'artifacts'));
  return {
    store,
    cache: new StepCache(join(config.home, 'cache'), store),
    runs: new RunRecords(join(config.home, 'runs')),
    journal: new CheckpointJournal(join(config.home, 'training')),
    registry: new ModelRegistry(join(config.home, 'registry')),
  };
}
