import type { ActivityCatalog } from '../core/activity-catalog';
import type { ArtifactStore } from '../store/artifact-store';
import type { CheckpointJournal } from '../store/checkpoint-journal';
import type { ModelRegistry } from '../store/model-registry';
import type { RunRecords } from '../store/run-records';
import type { StepCache } from '../store/step-cache';

/** What activities need from the worker; passed in, never read from globals. */
export interface ActivityDeps {
  readonly store: ArtifactStore;
  readonly cache: StepCache;
  /** Where finished steps are recorded; the records keep their artifacts from garbage collection. */
  readonly runs: RunRecords;
  /** The checkpoints each training epoch has written, for resuming on another worker. */
  readonly journal: CheckpointJournal;
  /** Deployed models by name and version. */
  readonly registry: ModelRegistry;
  readonly catalog: ActivityCatalog;
  /** Where pipelines given by name are looked up. */
  readonly pipelinesDir: string;
  /** Folders (besides the pipeline's own) that `load` may read from. */
  readonly dataRoots: readonly string[];
  /** The project's .tools folder: downloaded wheels, and pretrained checkpoints under models/. */
  readonly toolsDir: string;
}
