import type * as Tf from '@tensorflow/tfjs';
import type { ArtifactRef } from '../../core/artifacts';
import { readDataset } from '../../store/arrow-io';
import type { ArtifactStore } from '../../store/artifact-store';
import type { MetricsReport } from '../metrics/metrics-report';
import { rowGroup, sortGroups, type GroupBy } from '../metrics/row-groups';
import type { EncoderModel } from '../models/encoder-model';
import { datasetBatches } from '../train/dataset-batches';
import type { Scoring, Task } from './task';

/** What scoring a model group by group needs: the model, its task, and the dataset read in batches. */
export interface GroupedScoring {
  readonly tf: typeof Tf;
  readonly task: Task;
  readonly model: EncoderModel;
  readonly scoring: Omit<Scoring, 'onBatch'>;
  readonly store: ArtifactStore;
  readonly dataset: ArtifactRef;
  readonly batchSize: number;
}

/**
 * Scores every group of a dataset's rows on its own with the task's metrics: one read to find the
 * groups, then one evaluation per group over the rows of that group (windows of one question share
 * its columns, so they stay together). `onRows` hears the rows scored so far across groups.
 */
export async function evaluateGroups(
  grouped: GroupedScoring,
  by: GroupBy,
  onRows?: (rows: number) => void,
): Promise<NonNullable<MetricsReport['groups']>> {
  const { tf, task, model, store, dataset, batchSize } = grouped;
  const groupOf = rowGroup(by);
  const names = new Set<string>();
  for await (const rows of readDataset(store, dataset)) for (const row of rows) names.add(groupOf(row));
  const scores = [];
  let done = 0;
  for (const group of sortGroups(names)) {
    let rows = 0;
    const evaluation = await task.evaluate(
      tf,
      model,
      datasetBatches(
        store,
        dataset,
        (batch) => task.batch(batch, model.config.classes, grouped.scoring.outOfScope !== undefined),
        batchSize,
        (row) => groupOf(row) === group,
      ),
      {
        ...grouped.scoring,
        onBatch: (scored) => {
          rows = scored;
          onRows?.(done + scored);
        },
      },
    );
    done += rows;
    scores.push({
      group,
      rows: evaluation.rows,
      metrics: evaluation.metrics,
      ...(evaluation.counts && { counts: evaluation.counts }),
    });
  }
  return { column: by.column, ...(by.match !== undefined && { match: by.match }), scores };
}
