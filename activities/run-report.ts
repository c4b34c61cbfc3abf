import { renderRunReportHtml } from '../report/html-report';
import { gatherRunReport, RUN_REPORT_RECORD, type RunFacts } from '../report/run-report';
import type { ArtifactRef } from '../core/artifacts';
import type { ActivityDeps } from './deps';

export interface RunReportInput extends RunFacts {
  readonly runId: string;
}

/**
 * The `runReport` activity: renders the run's HTML report at its end, stores it as a `run-report`
 * artifact and records it with the run, where `pipewright report --html` and `pipewright serve` find it.
 */
export function createRunReportActivity(deps: ActivityDeps) {
  return async function runReport(input: RunReportInput): Promise<ArtifactRef> {
    const html = renderRunReportHtml(await gatherRunReport(deps.store, input));
    const ref = await deps.store.write(
      {
        kind: 'run-report',
        meta: { pipeline: input.progress.pipeline, status: input.progress.status },
        provenance: { workflowId: input.workflowId, runId: input.runId, activity: 'runReport' },
      },
      (out) => {
        out.write(html);
        return Promise.resolve();
      },
    );
    await deps.runs.record({
      workflowId: input.workflowId,
      runId: input.runId,
      pipeline: input.progress.pipeline,
      step: RUN_REPORT_RECORD,
      activity: 'runReport',
      cached: false,
      finishedAt: new Date().toISOString(),
      outputs: { report: ref },
    });
    return ref;
  };
}
