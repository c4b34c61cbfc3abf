import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setDefaultSignalHandler,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, StepInput, StepResult } from '../activities';
import { createCatalog, type ActivityContract } from '../core/activity-catalog';
import { parseDuration } from '../core/duration';
import { evaluateValue, resolveNested, type EvalContext } from '../core/expression-eval';
import type { ArtifactRef } from '../core/artifacts';
import type { PipelinePlan, PlanStep } from '../core/plan';
import { activityOptions } from './activity-options';
import { progressMarkdown, type PipelineProgress, type StepProgress } from './progress';
import { stepProgressSignal, stopTrainingSignal, training, type TrainingResult } from './training';
import { trainingWorkflowId, type TrainingProgress } from './training-progress';
import type { FailureType } from '../core/failures';

/** Input of the `pipeline` workflow, as typed into the Web UI or sent by the CLI. */
export interface PipelineInput {
  /** A pipeline name (looked up in the worker's pipelines folder), a file path, or inline YAML. */
  readonly pipeline: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly runName?: string;
  readonly noCache?: boolean;
}

export interface PipelineResult {
  readonly pipeline: string;
  readonly status: 'succeeded';
  readonly params: Readonly<Record<string, unknown>>;
  readonly steps: readonly StepProgress[];
  /** The run's HTML report (`pipewright report <id> --html`). */
  readonly report?: ArtifactRef;
}

export const progressQuery = defineQuery<PipelineProgress>('progress');

/** A decision on a deploy that waits for approval; without `step` it applies to every waiting deploy. */
export interface ApprovalDecision {
  readonly approved: boolean;
  readonly step?: string;
  readonly by?: string;
  readonly comment?: string;
}
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');

const { compilePipeline, runReport } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * Writes the run's HTML report once it has ended; a report that cannot be written is logged, and
 * never changes how the run ends. Runs begun before reports existed replay without it.
 */
async function writeReport(
  progress: PipelineProgress,
  trainings: readonly TrainingProgress[],
): Promise<ArtifactRef | undefined> {
  if (!patched('run-report')) return undefined;
  const { workflowId, runId } = workflowInfo();
  try {
    const ref = await runReport({ workflowId, runId, progress, trainings });
    progress.report = ref;
    return ref;
  } catch (error) {
    log.warn('the run report could not be written', { error: rootMessage(error) });
    return undefined;
  }
}

type Settled = { id: string; result: StepResult } | { id: string; error: unknown };

/** Interprets a compiled pipeline plan: runs every step whose dependencies are done, concurrently. */
export async function pipeline(input: PipelineInput): Promise<PipelineResult> {
  const progress: PipelineProgress = {
    pipeline: input.pipeline.includes('\n') ? '<inline>' : input.pipeline,
    ...(input.runName !== undefined && { runName: input.runName }),
    status: 'compiling',
    params: input.params ?? {},
    steps: [],
    startedAt: Date.now(),
  };
  setHandler(progressQuery, () => progress, {
    description: 'The run: its status, params and every step with its status, times, summary and outputs.',
  });
  const publish = () => setCurrentDetails(progressMarkdown(progress, Date.now()));
  publish();
  // Training steps report each epoch through a signal that is plumbing, not for people: handled by
  // the default handler, it is not among the handlers the Web UI offers in its Signal dialog.
  setDefaultSignalHandler((name, ...args) => {
    if (name !== stepProgressSignal.name) return;
    const [stepId, summary] = args as [string, string];
    const entry = progress.steps.find((s) => s.id === stepId);
    if (entry?.status !== 'running') return;
    entry.summary = summary;
    publish();
  });
  // A stop request for the run reaches every training step in flight.
  setHandler(
    stopTrainingSignal,
    async (reason) => {
      const training = progress.steps.filter((s) => s.status === 'running' && runsAs(s.uses) === 'epochs');
      await Promise.all(
        training.map((s) =>
          getExternalWorkflowHandle(childWorkflowId(s.id))
            .signal(stopTrainingSignal, reason)
            // A training that has just finished (or not started yet) needs no stop; never fail the run over it.
            .catch(() => undefined),
        ),
      );
    },
    {
      description:
        'Ends every running train step after its current epoch, keeping its best model; the argument is the reason shown.',
    },
  );

  let plan: PipelinePlan;
  try {
    plan = await compilePipeline({
      pipeline: input.pipeline,
      ...(input.params && { params: input.params }),
      ...(input.noCache && { noCache: true }),
    });
  } catch (error) {
    finish(progress, isCancellation(error) ? 'cancelled' : 'failed', rootMessage(error));
    publish();
    if (isCancellation(error)) throw error;
    throw ApplicationFailure.create({
      message: rootMessage(error),
      type: 'InvalidPipeline' satisfies FailureType,
      nonRetryable: true,
    });
  }
  progress.pipeline = plan.name;
  progress.params = plan.params;
  upsertMemo({ pipeline: plan.name, ...(input.runName !== undefined && { runName: input.runName }) });
  progress.status = 'running';
  progress.steps = plan.steps.map((s) => ({ id: s.id, uses: s.uses, queue: s.queue, status: 'pending' }));
  publish();

  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const state = new Map(progress.steps.map((s) => [s.id, s]));
  const results = new Map<string, StepResult>();
  const trainings: TrainingProgress[] = [];
  const running = new Map<string, { scope: CancellationScope; settled: Promise<Settled> }>();
  const context = (): EvalContext => ({
    params: plan.params,
    steps: Object.fromEntries([...results].map(([id, r]) => [id, { outputs: r.outputs }])),
  });

  const startReady = () => {
    for (let changed = true; changed;) {
      changed = false;
      for (const step of plan.steps) {
        const entry = state.get(step.id)!;
        if (entry.status !== 'pending') continue;
        const deps = step.dependsOn.map((d) => state.get(d)!);
        if (!deps.every((d) => d.status === 'succeeded' || d.status === 'cached' || d.status === 'skipped')) continue;
        const skippedDep = deps.find((d) => d.status === 'skipped');
        let skipReason: string | undefined;
        try {
          skipReason = skippedDep ? `skipped: needs ${skippedDep.id}, which was skipped` : whenSkips(step, context());
        } catch (error) {
          // A `when` that cannot be evaluated fails its step; thrown here it would stall the workflow task.
          entry.status = 'failed';
          entry.error = `when: ${rootMessage(error)}`;
          failStep({ id: step.id, error });
          return;
        }
        if (skipReason !== undefined) {
          entry.status = 'skipped';
          entry.summary = skipReason;
          changed = true;
          continue;
        }
        entry.status = 'running';
        entry.startedAt = Date.now();
        running.set(step.id, launch(step, plan, results, context(), awaitApproval));
      }
    }
  };

  const approvals = new Map<string, ApprovalDecision>();
  setHandler(
    approveSignal,
    (decision) => {
      const waiting = progress.steps
        .filter((s) => s.status === 'running' && runsAs(s.uses) === 'approval-gate')
        .map((s) => s.id);
      for (const id of decision.step === undefined ? waiting : [decision.step]) approvals.set(id, decision);
    },
    {
      description:
        'Decides a deploy waiting for approval: {"approved": true} or false, with "step" for one deploy (else all waiting) and optional "by" and "comment".',
    },
  );
  /** A gated step (deploy) with `approval: required` waits here for the approve signal, then carries the decision. */
  const awaitApproval = async (step: PlanStep, input: StepInput): Promise<StepInput> => {
    const contract = BUILTIN_CONTRACTS.get(step.uses);
    if (contract?.runs !== 'approval-gate') return input;
    const settings = input.with;
    if (settings.approval !== 'required') return input;
    const entry = state.get(step.id)!;
    entry.summary = `waiting for approval: pipewright approve ${workflowInfo().workflowId} (or --reject)`;
    publish();
    const timeout = parseDuration(settings.approval_timeout as string);
    if (!(await condition(() => approvals.has(step.id), timeout)))
      throw ApplicationFailure.create({
        message: `no approval within ${settings.approval_timeout as string}`,
        type: 'ApprovalTimedOut' satisfies FailureType,
        nonRetryable: true,
      });
    const decision = approvals.get(step.id)!;
    entry.summary = `${decision.approved ? 'approved' : 'rejected'} by ${decision.by ?? 'someone'}`;
    publish();
    return {
      ...input,
      with: {
        ...input.with,
        approval_decision: {
          approved: decision.approved,
          by: decision.by ?? 'unknown',
          ...(decision.comment && { comment: decision.comment }),
        },
      },
    };
  };

  let failed: { id: string; error: unknown } | undefined;
  const failStep = (failure: { id: string; error: unknown }) => {
    if (failed) return;
    failed = failure;
    // A failed step fails the run: stop the siblings still running rather than wait for them.
    for (const other of running.values()) other.scope.cancel();
  };
  startReady();
  publish();
  while (running.size > 0) {
    const settled = await Promise.race([...running.values()].map((r) => r.settled));
    running.delete(settled.id);
    const entry = state.get(settled.id)!;
    entry.endedAt = Date.now();
    if ('result' in settled) {
      results.set(settled.id, settled.result);
      const { training: epochs } = settled.result as Partial<TrainingResult>;
      if (epochs) trainings.push(epochs);
      entry.status = settled.result.cached ? 'cached' : 'succeeded';
      entry.summary = settled.result.summary;
      entry.outputs = settled.result.outputs;
      if (!failed && !CancellationScope.current().consideredCancelled) startReady();
    } else {
      entry.status = isCancellation(settled.error) ? 'cancelled' : 'failed';
      entry.error = rootMessage(settled.error);
      if (entry.status === 'failed') failStep(settled);
    }
    publish();
  }

  if (CancellationScope.current().consideredCancelled) {
    for (const s of progress.steps) if (s.status === 'pending') s.status = 'cancelled';
    finish(progress, 'cancelled', 'cancelled by request');
    publish();
    throw new CancelledFailure('pipeline cancelled');
  }
  if (failed) {
    const step = byId.get(failed.id)!;
    const message = `step "${step.id}" (${step.uses}) failed: ${rootMessage(failed.error)}`;
    for (const s of progress.steps) if (s.status === 'pending') s.status = 'cancelled';
    finish(progress, 'failed', message);
    await writeReport(progress, trainings);
    publish();
    throw ApplicationFailure.create({ message, type: 'StepFailed', nonRetryable: true, cause: failed.error as Error });
  }
  finish(progress, 'succeeded');
  const report = await writeReport(progress, trainings);
  publish();
  return {
    pipeline: plan.name,
    status: 'succeeded',
    params: plan.params,
    steps: progress.steps,
    ...(report && { report }),
  };
}

/** Starts one step's activity in its own cancellation scope; the promise never rejects. */
function launch(
  step: PlanStep,
  plan: PipelinePlan,
  results: ReadonlyMap<string, StepResult>,
  context: EvalContext,
  approval: (step: PlanStep, input: StepInput) => Promise<StepInput>,
) {
  const scope = new CancellationScope();
  const settled = scope
    .run(async () => {
      const input = await approval(step, stepInput(step, plan, results, context));
      if (runsAs(step.uses) === 'epochs') return runChild(step, input);
      const activity = activityFor(step);
      return activity(input);
    })
    .then(
      (result): Settled => ({ id: step.id, result }),
      (error: unknown): Settled => ({ id: step.id, error }),
    );
  return { scope, settled };
}

/** The built-in step kinds by name; a worker's own activities run as one activity each. */
const BUILTIN_CONTRACTS = createCatalog();

/** How a step kind runs (ActivityContract.runs); unset: as one activity. */
function runsAs(uses: string): ActivityContract['runs'] {
  return BUILTIN_CONTRACTS.get(uses)?.runs;
}

function childWorkflowId(stepId: string): string {
  return trainingWorkflowId(workflowInfo().workflowId, stepId);
}

function runChild(step: PlanStep, input: StepInput): Promise<StepResult> {
  return executeChild(training, {
    workflowId: childWorkflowId(step.id),
    args: [
      { step: input, policy: { queue: step.queue, retry: step.retry, timeouts: step.timeouts }, loop: step.loop! },
    ],
    // Cancelling the run cancels the child, whose train activity checkpoints before it stops.
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    staticSummary: `${step.id}: training`,
  });
}

function activityFor(step: PlanStep): (input: StepInput) => Promise<StepResult> {
  const options = activityOptions(step, workflowInfo().taskQueue, step.id);
  const activities = proxyActivities(options) as Record<string, (input: StepInput) => Promise<StepResult>>;
  return activities[step.uses]!;
}

function stepInput(
  step: PlanStep,
  plan: PipelinePlan,
  results: ReadonlyMap<string, StepResult>,
  context: EvalContext,
): StepInput {
  const inputs: Record<string, ArtifactRef> = {};
  for (const [name, wire] of Object.entries(step.inputs)) {
    inputs[name] = results.get(wire.step)!.outputs[wire.output] as ArtifactRef;
  }
  const withValues = resolveNested(step.with, context) as Record<string, unknown>;
  const info = workflowInfo();
  return {
    run: {
      workflowId: info.workflowId,
      runId: info.runId,
      pipeline: plan.name,
      ...(plan.source.dir !== undefined && { dir: plan.source.dir }),
    },
    stepId: step.id,
    with: withValues,
    inputs,
    cache: step.cache && !plan.noCache,
  };
}

/** Why a step's `when` keeps it from running, or undefined when it runs. */
function whenSkips(step: PlanStep, context: EvalContext): string | undefined {
  if (!step.when) return undefined;
  return evaluateValue(step.when, context) === true ? undefined : 'skipped: when is false';
}

function finish(progress: PipelineProgress, status: PipelineProgress['status'], error?: string): void {
  progress.status = status;
  progress.endedAt = Date.now();
  if (error !== undefined) progress.error = error;
}

/** The innermost message of a failure chain (workflow → child workflow → activity → application failure). */
function rootMessage(error: unknown): string {
  let current: unknown = error;
  while ((current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) && current.cause)
    current = current.cause;
  if (current instanceof Error) return current.message;
  return String(current);
}
