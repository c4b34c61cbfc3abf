import type { ActivityCatalog } from '../spec/activity-catalog';
import type { ArtifactStore } from '../store/artifact-store';
import type { StepCache } from '../store/step-cache';

/** What activities need from the worker; passed in, never read from globals. */
export interface ActivityDeps {
  readonly store: ArtifactStore;
  readonly cache: StepCache;
  readonly catalog: ActivityCatalog;
  /** Where pipelines given by name are looked up. */
  readonly pipelinesDir: string;
  /** Folders (besides the pipeline's own) that `load` may read from. */
  readonly dataRoots: readonly string[];
}
