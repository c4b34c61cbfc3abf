import { BATCH_CONTRACT } from './contracts/batch';
import { CLEAN_CONTRACT } from './contracts/clean';
import { DEPLOY_CONTRACT } from './contracts/deploy';
import { LOAD_CONTRACT } from './contracts/load';
import { PAD_CONTRACT } from './contracts/pad';
import { SPLIT_CONTRACT } from './contracts/split';
import { TOKENIZE_CONTRACT } from './contracts/tokenize';
import { TRAIN_CONTRACT } from './contracts/train';
import { VALIDATE_CONTRACT } from './contracts/validate';
import type { JsonSchema } from './json-schema';
import type { ArtifactKind, ValueType } from './artifacts';
import type { PlanRetry, PlanTimeouts, Queue } from './plan';

/** What the validator and compiler know about an activity: its wiring, its `with:` schema, its defaults. */
export interface ActivityContract {
  readonly name: string;
  readonly summary: string;
  readonly inputs: Readonly<
    Record<string, { readonly kind: ArtifactKind; readonly required: boolean; readonly description: string }>
  >;
  readonly outputs: Readonly<Record<string, { readonly type: ValueType; readonly description: string }>>;
  /** JSON Schema of the step's `with:` object. */
  readonly with: JsonSchema;
  /**
   * How the pipeline runs the step, when not as one activity: `epochs`, as the training workflow's
   * epoch loop (a child workflow); `approval-gate`, as one activity that first waits for the
   * approve signal when its `approval` setting is `required`, at most its `approval_timeout`.
   */
  readonly runs?: 'epochs' | 'approval-gate';
  readonly defaults: {
    readonly queue: Queue;
    readonly retry: PlanRetry;
    readonly timeouts: PlanTimeouts;
  };
  /**
   * For a step that runs as an epoch loop: the retry policy and timeouts of the loop's other
   * activities, by activity name; a `startToCloseMs` left out is the step's own. They run on the
   * CPU queue; the step's `queue:`, `retry:` and `timeout:` govern its main activity.
   */
  readonly loopActivities?: Readonly<
    Record<
      string,
      {
        readonly retry: PlanRetry;
        readonly timeouts: Omit<PlanTimeouts, 'startToCloseMs'> & { readonly startToCloseMs?: number };
      }
    >
  >;
}

export type ActivityCatalog = ReadonlyMap<string, ActivityContract>;

/** The activities every Pipewright worker provides. */
export const BUILTIN_ACTIVITIES: readonly ActivityContract[] = [
  LOAD_CONTRACT,
  CLEAN_CONTRACT,
  SPLIT_CONTRACT,
  TOKENIZE_CONTRACT,
  PAD_CONTRACT,
  BATCH_CONTRACT,
  TRAIN_CONTRACT,
  VALIDATE_CONTRACT,
  DEPLOY_CONTRACT,
];

/** Builds a catalog from contracts; workers may add their own activities to the built-ins. */
export function createCatalog(extra: readonly ActivityContract[] = []): ActivityCatalog {
  return new Map([...BUILTIN_ACTIVITIES, ...extra].map((contract) => [contract.name, contract]));
}
