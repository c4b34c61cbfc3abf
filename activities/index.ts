import { clean, CLEAN_VERSION } from './clean';
import { createCompilePipeline } from './compile-pipeline';
import { defineStep } from './define-step';
import type { ActivityDeps } from './deps';
import { load, LOAD_VERSION } from './load';

export type { ActivityDeps } from './deps';
export type { CompileInput, StepInput, StepResult } from './step-io';

/** All built-in activities, bound to their dependencies; registered on the worker under these names. */
export function createActivities(deps: ActivityDeps) {
  return {
    compilePipeline: createCompilePipeline(deps),
    load: defineStep(deps, 'load', LOAD_VERSION, load),
    clean: defineStep(deps, 'clean', CLEAN_VERSION, clean),
  };
}

export type Activities = ReturnType<typeof createActivities>;
