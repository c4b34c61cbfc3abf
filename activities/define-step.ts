import { activityInfo, ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { ActivityContract } from '../core/activity-catalog';
import { withDefaults } from '../core/with-defaults';
import type { ArtifactProvenance } from '../store/artifact-store';
import { cacheKey } from '../store/step-cache';
import { untilServerAnswers } from './until-server-answers';
import type { ActivityDeps } from './deps';
import type { StepInput, StepResult } from './step-io';
import { failureClass, PipewrightFailure } from '../core/failures';

/** What a step implementation gets besides its input: progress reporting, cancellation, provenance. */
export interface StepContext {
  readonly deps: ActivityDeps;
  readonly contract: ActivityContract;
  readonly signal: AbortSignal;
  /** Heartbeats progress; Temporal delivers cancellation through heartbeats. */
  readonly progress: (details: Record<string, unknown>) => void;
  readonly provenance: (parents: readonly string[], extra?: Partial<ArtifactProvenance>) => ArtifactProvenance;
}

/**
 * A step's work. `W` is its `with:` as its contract's schema types it (e.g. `LoadSettings`), with
 * the defaults filled in; the values were checked against that schema when the pipeline compiled.
 * `I` its wired inputs (e.g. `CleanInputs`): the compiler refused a plan missing a required one.
 */
export type StepImplementation<
  W = Readonly<Record<string, unknown>>,
  O = Readonly<Record<string, unknown>>,
  I = StepInput['inputs'],
> = (
  input: Omit<StepInput, 'with' | 'inputs'> & { readonly with: W; readonly inputs: I },
  context: StepContext,
) => Promise<Omit<StepResult<O>, 'cached'>>;

/**
 * What a step's error becomes for Temporal: a failure raised on purpose (core/failures.ts) as an
 * ApplicationFailure whose type names it, retried only if its kind allows; any other error as it
 * is, for the step's retry policy.
 */
export function asStepFailure<E>(error: E): E | ApplicationFailure {
  if (!(error instanceof PipewrightFailure)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.name,
    nonRetryable: error.nonRetryable,
  });
}

/** An error a step raises about its input, data or configuration: never retried. */
export class InvalidStepInput extends failureClass('InvalidStepInput') {}

/**
 * Wraps a step implementation as a Temporal activity: applies `with:` defaults, consults the step
 * cache (unless the step has side effects: `cacheable: false`), turns data errors into
 * non-retryable failures whose type names the problem, and holds its result while the Temporal
 * server does not answer (untilServerAnswers).
 */
export function defineStep<W, O extends Readonly<Record<string, unknown>>, I>(
  deps: ActivityDeps,
  name: string,
  version: string,
  implementation: StepImplementation<W, O, I>,
  options: { readonly cacheable: boolean } = { cacheable: true },
) {
  const contract = deps.catalog.get(name);
  if (!contract) throw new Error(`activity "${name}" has no contract in the catalog`);
  const runStep = async (input: StepInput, progress: (details: unknown) => void): Promise<StepResult<O>> => {
    // A compiled plan carries every default already; a caller outside a pipeline (a test, a hand-started
    // activity) may not, and the cache key must be the same for both.
    const params = withDefaults(contract.with, input.with);
    const key = cacheKey({ activity: name, version, params, inputs: input.inputs });
    const record = (result: StepResult) =>
      deps.runs.record({
        workflowId: input.run.workflowId,
        runId: input.run.runId,
        pipeline: input.run.pipeline,
        step: input.stepId,
        activity: name,
        cached: result.cached,
        finishedAt: new Date().toISOString(),
        outputs: result.outputs,
      });
    if (input.cache && options.cacheable) {
      const hit = await deps.cache.lookup(key);
      if (hit) {
        await record({ ...hit, cached: true });
        // A hit holds what this step (same activity version) returned before.
        return { ...hit, outputs: hit.outputs as O, cached: true };
      }
    }
    const info = activityInfo();
    const context: StepContext = {
      deps,
      contract,
      signal: cancellationSignal(),
      progress,
      provenance: (parents, extra) => ({
        workflowId: input.run.workflowId,
        runId: input.run.runId,
        step: input.stepId,
        activity: name,
        params,
        parents,
        ...extra,
      }),
    };
    try {
      // The one place `with:` and inputs meet their types: the plan passed the contract's checks.
      const result = await implementation({ ...input, with: params as W, inputs: input.inputs as I }, context);
      if (options.cacheable) await deps.cache.save(key, result);
      await record({ ...result, cached: false });
      return { ...result, cached: false };
    } catch (error) {
      if (error instanceof PipewrightFailure) throw asStepFailure(error);
      if (info.attempt > 1 && error instanceof Error) error.message = `${error.message} (attempt ${info.attempt})`;
      throw error;
    }
  };
  return async (input: StepInput): Promise<StepResult<O>> => {
    let details: unknown;
    const result = await runStep(input, (progress) => {
      details = progress;
      heartbeat(progress);
    });
    await untilServerAnswers(() => heartbeat(details));
    return result;
  };
}
