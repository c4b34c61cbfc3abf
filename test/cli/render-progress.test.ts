import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProgressPrinter } from '../../cli/render-progress';
import type { PipelineProgress } from '../../workflows/progress';
import { progressMarkdown } from '../../workflows/progress';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, chunks };
}

const running: PipelineProgress = {
  pipeline: 'demo',
  status: 'running',
  params: {},
  startedAt: 0,
  steps: [
    { id: 'load', uses: 'load', queue: 'cpu', status: 'succeeded', startedAt: 0, endedAt: 1500, summary: '280 rows' },
    { id: 'clean', uses: 'clean', queue: 'cpu', status: 'running', startedAt: 1500 },
    { id: 'report', uses: 'clean', queue: 'cpu', status: 'pending' },
  ],
};

describe('progress display', () => {
  test('on a terminal the step table is redrawn in place', () => {
    const { stream, chunks } = sink(true);
    const printer = ProgressPrinter.for(stream, false);
    printer.update(running, 4000);
    printer.update({ ...running, status: 'succeeded' }, 5000);
    assert.equal(
      chunks[0],
      [
        'demo: running (1/3 steps)',
        '  step    activity  status     time  result',
        '✔ load    load      succeeded  1.5s  280 rows',
        '▶ clean   clean     running    2.5s',
        '· report  clean     pending',
        '',
      ].join('\n'),
    );
    assert.equal(chunks[1], '\x1b[5A\x1b[0J', 'moves up over the previous table and clears it');
  });

  test('in a log, each step change is one line', () => {
    const { stream, chunks } = sink(false);
    const printer = ProgressPrinter.for(stream, false);
    printer.update(running);
    printer.update(running);
    assert.deepEqual(chunks, ['✔ load (load) succeeded 1.5s: 280 rows\n', '▶ clean (clean) running\n']);
  });

  test('the Web UI details are the step table in a code block, which keeps its columns in markdown', () => {
    const failed: PipelineProgress = {
      ...running,
      status: 'failed',
      error: 'step clean: *bad* row\nat line 2',
      steps: [{ ...running.steps[0]!, summary: 'a | b ```' }, running.steps[1]!],
    };
    assert.equal(
      progressMarkdown(failed, 2000),
      [
        '**demo** — failed, 1 of 2 steps finished',
        '',
        '````',
        '  step   activity  status     time  result',
        '✔ load   load      succeeded  1.5s  a | b ```',
        '▶ clean  clean     running    0.5s',
        '````',
        '',
        '**Error:** step clean: \\*bad\\* row at line 2',
      ].join('\n'),
    );
  });
});
