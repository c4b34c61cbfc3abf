import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { asStepFailure } from '../../activities/define-step';
import { exitCodeFor } from '../../cli/commands/run';
import { failureAdvice, failureOutcome } from '../../cli/watch-run';
import { FAILURE_ADVICE, FAILURE_TYPES, failureClass, type FailureType } from '../../core/failures';
import { PROJECT_ROOT } from '../../worker/config';
import { sourcesIn } from '../support/sources';

const TYPES = Object.keys(FAILURE_TYPES) as FailureType[];

/** A failed run's error as the client receives it: the run's StepFailed, caused by the step's activity failure. */
function failedRun(stepFailure: Error): WorkflowFailedError {
  const activity = new ActivityFailure(
    'activity failed',
    'clean',
    '3',
    RetryState.NON_RETRYABLE_FAILURE,
    'w',
    stepFailure,
  );
  const run = ApplicationFailure.create({ message: 'step "clean" failed', type: 'StepFailed', cause: activity });
  return new WorkflowFailedError('Workflow execution failed', run, RetryState.NON_RETRYABLE_FAILURE);
}

test('every failure type: a step raising it fails without retry unless a retry can help, and the CLI exits 1 saying what to do', () => {
  for (const type of TYPES) {
    const kind = FAILURE_TYPES[type];
    const error = new (failureClass(type))(`something about ${type}`);
    assert.equal(error.name, type);
    const stepFailure = asStepFailure(error);
    assert.ok(stepFailure instanceof ApplicationFailure, type);
    assert.equal(stepFailure.type, type);
    assert.equal(stepFailure.nonRetryable, kind !== 'conflict', type);

    const outcome = failureOutcome(failedRun(stepFailure));
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(outcome.failure, { type, kind });
    assert.equal(exitCodeFor(outcome), 1);
    assert.equal(failureAdvice(outcome.failure), `(${type}, a failure of kind ${kind}: ${FAILURE_ADVICE[kind]})`);
  }
  // An error of no declared type is retried under the policy and named by no advice.
  const plain = new Error('connection reset');
  assert.equal(asStepFailure(plain), plain);
  const outcome = failureOutcome(failedRun(ApplicationFailure.create({ message: 'connection reset', type: 'Error' })));
  assert.equal(outcome.failure, undefined);
});

test('every failure type of the vocabulary is raised somewhere, and every one raised is in it', () => {
  const folders = ['core', 'compiler', 'data', 'store', 'ml', 'activities', 'workflows', 'serve'];
  const text = folders
    .flatMap(sourcesIn)
    .filter((file) => file !== 'core/failures.ts')
    .map((file) => readFileSync(join(PROJECT_ROOT, file), 'utf8'))
    .join('\n');
  const declared = [...text.matchAll(/failureClass\('(\w+)'\)|type: '(\w+)' satisfies FailureType/g)].map(
    (match) => match[1] ?? match[2],
  );
  assert.deepEqual([...new Set(declared)].sort(), [...TYPES].sort());
  // No failure is made by hand with a type outside the vocabulary but the run's wrapper of a step's.
  const byHand = [...text.matchAll(/type: '(\w+)',\s*nonRetryable/g)].map((match) => match[1]);
  assert.deepEqual(byHand, ['StepFailed']);
});
