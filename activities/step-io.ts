import type { ArtifactRef } from '../core/artifacts';

/** What the pipeline workflow hands every step activity. */
export interface StepInput {
  readonly run: {
    readonly workflowId: string;
    readonly runId: string;
    readonly pipeline: string;
    readonly dir?: string;
  };
  readonly stepId: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, ArtifactRef>>;
  readonly cache: boolean;
}

/** What a step activity returns: outputs by name (artifact refs or plain values) and a one-line summary. */
export interface StepResult<O = Readonly<Record<string, unknown>>> {
  readonly outputs: O;
  readonly summary: string;
  readonly cached: boolean;
}

/** Input of the activity that turns a pipeline reference into a plan. */
export interface CompileInput {
  readonly pipeline: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly noCache?: boolean;
}
