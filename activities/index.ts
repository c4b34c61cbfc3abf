import { batch, BATCH_VERSION } from './batch';
import { createCheckpointActivity } from './checkpoint';
import { clean, CLEAN_VERSION } from './clean';
import { createCompilePipeline } from './compile-pipeline';
import { defineStep } from './define-step';
import { deploy, DEPLOY_VERSION } from './deploy';
import type { ActivityDeps } from './deps';
import { load, LOAD_VERSION } from './load';
import { pad, PAD_VERSION } from './pad';
import { createRunReportActivity } from './run-report';
import { split, SPLIT_VERSION } from './split';
import { tokenize, TOKENIZE_VERSION } from './tokenize';
import { createTrainActivity } from './train';
import { validate, VALIDATE_VERSION } from './validate';

export type { ActivityDeps } from './deps';
export type { CompileInput, StepInput, StepResult } from './step-io';
export type * from './training-io';

/** All built-in activities, bound to their dependencies; registered on the worker under these names. */
export function createActivities(deps: ActivityDeps) {
  return {
    compilePipeline: createCompilePipeline(deps),
    load: defineStep(deps, 'load', LOAD_VERSION, load),
    clean: defineStep(deps, 'clean', CLEAN_VERSION, clean),
    split: defineStep(deps, 'split', SPLIT_VERSION, split),
    tokenize: defineStep(deps, 'tokenize', TOKENIZE_VERSION, tokenize),
    pad: defineStep(deps, 'pad', PAD_VERSION, pad),
    batch: defineStep(deps, 'batch', BATCH_VERSION, batch),
    train: createTrainActivity(deps),
    checkpoint: createCheckpointActivity(deps),
    validate: defineStep(deps, 'validate', VALIDATE_VERSION, validate),
    deploy: defineStep(deps, 'deploy', DEPLOY_VERSION, deploy, { cacheable: false }),
    runReport: createRunReportActivity(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
