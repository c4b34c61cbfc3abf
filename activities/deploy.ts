import { readMetricsReport, type MetricsReport } from '../ml/metrics/metrics-report';
import { isOutOfScopeMetric, lowerIsBetter, mainMetric, validatedMetrics, type Metric } from '../core/metrics';
import type { ModelVersion } from '../store/model-registry';
import type { DeployOutputs, DeploySettings, DeployInputs } from '../core/contracts/deploy';
import { InvalidStepInput, type StepImplementation } from './define-step';

/** Bumped whenever what `deploy` does for the same input could change. */
export const DEPLOY_VERSION = '1';

/** A deploy step's settings; the pipeline workflow adds who decided an approval it asked for. */
type DeployOptions = DeploySettings & {
  readonly approval_decision?: { approved: boolean; by: string; comment?: string };
};

/** Whether a challenger may replace the champion, and why. */
export interface GateDecision {
  readonly deploy: boolean;
  readonly reason: string;
}

/**
 * The champion/challenger gate: the challenger must have passed its thresholds and score better
 * than the deployed version by more than `margin` on the gating metric (lower is better for loss).
 */
export function gate(
  report: Pick<MetricsReport, 'passed' | 'thresholds' | 'metrics'>,
  champion: ModelVersion | undefined,
  options: { readonly metric: Metric; readonly margin: number; readonly force: boolean },
): GateDecision {
  const { metric, margin } = options;
  const challenger = report.metrics[metric] ?? Number.NaN;
  const failed = report.thresholds.filter((t) => !t.passed).map((t) => t.condition);
  const championScore = champion?.metrics[metric];
  const beats =
    championScore === undefined ||
    (lowerIsBetter(metric) ? challenger < championScore - margin : challenger > championScore + margin);
  const versus =
    championScore === undefined
      ? 'no version is deployed'
      : `${metric} ${challenger.toFixed(4)} vs ${championScore.toFixed(4)} of version ${champion!.version}${margin > 0 ? ` (margin ${margin})` : ''}`;
  if (options.force) return { deploy: true, reason: `forced; ${versus}` };
  if (!report.passed) return { deploy: false, reason: `validation thresholds not met: ${failed.join(', ')}` };
  if (!beats) return { deploy: false, reason: `does not beat the deployed version: ${versus}` };
  return {
    deploy: true,
    reason: championScore === undefined ? `first version: ${metric} ${challenger.toFixed(4)}` : `better: ${versus}`,
  };
}

/** `deploy`: gate, register and promote; a retried deploy of the same run step returns the version it made. */
export const deploy: StepImplementation<DeployOptions, DeployOutputs, DeployInputs> = async (input, { deps }) => {
  const options = input.with;
  const { model, tokenizer, metrics } = input.inputs;
  const deployKey = `${input.run.workflowId}/${input.stepId}`;
  const report = await readMetricsReport(deps.store, metrics);
  if (report.model.sha256 !== model.sha256)
    throw new InvalidStepInput(
      `the metrics report scores model ${report.model.sha256.slice(0, 12)}, not the one being deployed (${model.sha256.slice(0, 12)}): wire a validate step of this model`,
    );
  const task = report.task;
  const metric = options.metric ?? mainMetric(task);
  if (!validatedMetrics(task).includes(metric))
    throw new InvalidStepInput(
      `metric ${metric} is not one the ${task} model reports; use one of ${validatedMetrics(task).join(', ')}`,
    );
  const challenger = report.metrics[metric];
  if (challenger === undefined)
    throw new InvalidStepInput(
      `the metrics report has no ${metric}${isOutOfScopeMetric(metric) ? ': its validate step measures it only with out_of_scope' : ''}; it has ${Object.keys(report.metrics).join(', ')}`,
    );
  const result = (deployed: boolean, version: number, reason: string, previous: ModelVersion | undefined) => ({
    outputs: {
      deployed,
      version,
      decision: reason,
      challenger,
      champion: previous?.metrics[metric] ?? -1,
    },
    summary: deployed
      ? `${options.name} version ${version} deployed (${reason})`
      : `${options.name} not deployed: ${reason}`,
  });
  const already = await deps.registry.findByDeployKey(options.name, deployKey);
  if (already) {
    // A retry after registering: promote unless that already happened (a crash can fall in between).
    let promotion = (await deps.registry.history(options.name)).find(
      (p) => p.version === already.version && p.reason === 'deploy',
    );
    promotion ??= await deps.registry.promote(options.name, already.version);
    const replaced = promotion.from;
    const previous = replaced === undefined ? undefined : await deps.registry.version(options.name, replaced);
    return result(true, already.version, `already deployed by this step as version ${already.version}`, previous);
  }
  const champion = await deps.registry.current(options.name);
  const approval = options.approval_decision;
  if (options.approval === 'required' && approval && !approval.approved)
    return result(
      false,
      0,
      `approval refused by ${approval.by}${approval.comment ? `: ${approval.comment}` : ''}`,
      champion,
    );
  const decision = gate(report, champion, { metric, margin: options.margin, force: options.force });
  if (!decision.deploy) return result(false, 0, decision.reason, champion);
  const version = await deps.registry.register({
    name: options.name,
    task,
    checkpoint: model,
    tokenizer,
    labels: report.labels,
    metrics: report.metrics,
    lineage: {
      pipeline: input.run.pipeline,
      workflowId: input.run.workflowId,
      runId: input.run.runId,
      step: input.stepId,
      parents: [model.sha256, tokenizer.sha256, metrics.sha256],
    },
    deployKey,
  });
  await deps.registry.promote(options.name, version.version);
  return result(true, version.version, `${decision.reason}${approval ? `; approved by ${approval.by}` : ''}`, champion);
};
