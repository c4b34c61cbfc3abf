import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArtifactRef } from '../../core/artifacts';
import type { EpochRecord } from '../../workflows/training-policy';
import { SHOWN_EPOCHS, trainingMarkdown, type TrainingProgress } from '../../workflows/training-progress';

const ref = (name: string): ArtifactRef => ({ kind: 'checkpoint', uri: `file:///${name}`, sha256: name, bytes: 1 });

/** A run of `count` epochs whose best F1 is epoch `best`. */
function progressOf(count: number, best: number): TrainingProgress {
  const history: EpochRecord[] = Array.from({ length: count }, (_, i) => ({
    epoch: i + 1,
    checkpoint: ref(`c${i + 1}`),
    step: (i + 1) * 10,
    trainLoss: 1,
    samplesPerSecond: 100,
    seconds: 5,
    validation: { accuracy: 0.5, f1_macro: i + 1 === best ? 0.9 : 0.5, loss: 1 },
    report: ref(`r${i + 1}`),
  }));
  return {
    step: 'train',
    status: 'training',
    epochs: 100,
    monitor: 'f1_macro',
    metrics: ['accuracy', 'f1_macro', 'loss'],
    history,
    startedAt: 0,
  };
}

/** The epochs in the code block's rows, which stay aligned under its header. */
const tableRows = (markdown: string) => {
  const block = /```\n(.*)\n```/s.exec(markdown)![1]!.split('\n');
  assert.match(
    block[0]!,
    /^epoch {2}step {2}train loss {2}val accuracy {2}val f1_macro {2}val loss {2}samples\/s {2}time$/,
  );
  for (const row of block.slice(1)) assert.equal(row.length, block[0]!.length, `aligned: ${row}`);
  return block.slice(1).map((line) => Number(/^(\d+)/.exec(line)![1]));
};

test('the Web UI epoch table of a long run shows the latest epochs and the best, and counts the rest', () => {
  const long = trainingMarkdown(progressOf(40, 3), 1_000);
  assert.deepEqual(tableRows(long), [3, ...Array.from({ length: SHOWN_EPOCHS }, (_, i) => 31 + i)]);
  assert.match(long, /29 earlier epoch\(s\) not shown; `pipewright status <run id>` lists every epoch\./);
  const recentBest = trainingMarkdown(progressOf(40, 38), 1_000);
  assert.deepEqual(
    tableRows(recentBest),
    Array.from({ length: SHOWN_EPOCHS }, (_, i) => 31 + i),
  );
  const short = trainingMarkdown(progressOf(4, 2), 1_000);
  assert.deepEqual(tableRows(short), [1, 2, 3, 4]);
  assert.doesNotMatch(short, /not shown/);
});
