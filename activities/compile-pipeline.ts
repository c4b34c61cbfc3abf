import { buildPlan } from '../compiler/load-pipeline';
import type { PipelinePlan } from '../core/plan';
import { asStepFailure } from './define-step';
import type { ActivityDeps } from './deps';
import { loadPathProblems } from './load';
import type { CompileInput } from './step-io';

/** The first activity of every run: load, validate and compile, so the exact plan is in the history. */
export function createCompilePipeline(deps: ActivityDeps) {
  return function compilePipeline(input: CompileInput): Promise<PipelinePlan> {
    try {
      const plan = buildPlan(input.pipeline, deps.catalog, {
        pipelinesDir: deps.pipelinesDir,
        checkPlan: (plan) => loadPathProblems(plan, deps.dataRoots, { missing: true }),
        ...(input.params !== undefined && { params: input.params }),
        ...(input.noCache !== undefined && { noCache: input.noCache }),
      });
      return Promise.resolve(plan);
    } catch (error) {
      return Promise.reject(asStepFailure(error instanceof Error ? error : new Error(String(error))));
    }
  };
}
