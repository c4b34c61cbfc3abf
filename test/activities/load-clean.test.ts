import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createActivities, type StepInput, type StepResult } from '../../activities';
import { seededRandom } from '../../data/seeded-random';
import type { ArtifactRef } from '../../core/artifacts';
import { readDataset } from '../../store/arrow-io';
import { datasetChain, droppedRows, droppedSummary } from '../../store/row-history';
import { activityDeps } from '../../worker/create-workers';
import { loadConfig, PROJECT_ROOT } from '../../worker/config';

const home = mkdtempSync(join(tmpdir(), 'pipewright-activities-'));
after(() => rmSync(home, { recursive: true, force: true }));
const deps = activityDeps({ ...loadConfig({}), home, pipelinesDir: join(PROJECT_ROOT, 'pipelines') });
const activities = createActivities(deps);

function input(
  withValues: Record<string, unknown>,
  inputs: Record<string, ArtifactRef> = {},
  dir = join(PROJECT_ROOT, 'pipelines'),
): StepInput {
  return {
    run: { workflowId: 'wf', runId: 'run', pipeline: 'p', dir },
    stepId: 'step',
    with: withValues,
    inputs,
    cache: true,
  };
}

async function rowsOf(ref: ArtifactRef) {
  const out = [];
  for await (const chunk of readDataset(deps.store, ref)) out.push(...chunk);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(error)}`);
  return error;
}

describe('load and clean activities', () => {
  test('load maps columns from the SNIPS sample; a second call is a cache hit', async () => {
    const env = new MockActivityEnvironment();
    const params = { path: 'data/snips-intents-sample.jsonl', columns: { text: 'text', label: 'intent' } };
    const first: StepResult = await env.run(activities.load, input(params));
    const dataset = first.outputs.dataset as ArtifactRef;
    assert.equal(first.cached, false);
    assert.equal(dataset.rows, 280);
    assert.deepEqual(Object.keys((await rowsOf(dataset))[0]!), ['text', 'label']);
    const again: StepResult = await env.run(activities.load, input(params));
    assert.equal(again.cached, true);
    assert.equal((again.outputs.dataset as ArtifactRef).sha256, dataset.sha256);
  });

  test('load keeps only the rows `where` selects, counting the others; a field it lacks is an error', async () => {
    const env = new MockActivityEnvironment();
    const dir = mkdtempSync(join(home, 'where-'));
    const rows = [
      { id: 1, source: ['unique_match'] },
      { id: 2, source: ['heuristic'] },
      { id: 3, source: ['unique_match'] },
      { id: 4, source: ['unique_match', 'heuristic'] },
    ];
    writeFileSync(join(dir, 'qa.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const result: StepResult = await env.run(
      activities.load,
      input({ path: 'qa.jsonl', where: { source: ['unique_match'] } }, {}, dir),
    );
    assert.deepEqual(
      (await rowsOf(result.outputs.dataset as ArtifactRef)).map((r) => r.id),
      [1, 3],
    );
    assert.equal(result.outputs.skipped, 2);
    assert.match(result.summary, /2 rows from qa.jsonl \(2 left out by where\)/);
    const typo = await failure(env.run(activities.load, input({ path: 'qa.jsonl', where: { sorce: [] } }, {}, dir)));
    assert.match(
      typo.message,
      /where names field "sorce", which qa.jsonl does not have in any of its first 4 records; its fields: id, source/,
    );
    const none = await failure(
      env.run(activities.load, input({ path: 'qa.jsonl', where: { source: ['x'] } }, {}, dir)),
    );
    assert.match(none.message, /where left none of the 4 rows of qa\.jsonl/);
    writeFileSync(join(dir, 'empty.jsonl'), '\n');
    const empty = await failure(env.run(activities.load, input({ path: 'empty.jsonl' }, {}, dir)));
    assert.match(empty.message, /empty\.jsonl has no rows/);
  });

  test('load quarantines the records it cannot read, with line and reason, and keeps the rest', async () => {
    const env = new MockActivityEnvironment();
    const dir = mkdtempSync(join(home, 'bad-'));
    const good = (i: number) => JSON.stringify({ utterance: `play song ${i}`, intent: 'PlayMusic' });
    const lines = Array.from({ length: 40 }, (_, i) => Buffer.from(good(i)));
    lines[4] = Buffer.from('{"utterance": "play', 'utf8'); // cut off mid-record
    lines[9] = Buffer.concat([
      Buffer.from('{"utterance": "caf'),
      Buffer.from([0xe9]),
      Buffer.from('", "intent": "x"}'),
    ]);
    lines[14] = Buffer.from(JSON.stringify({ text: 'no utterance field', intent: 'PlayMusic' }));
    lines[19] = Buffer.from('[1, 2]');
    writeFileSync(join(dir, 'intents.jsonl'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const columns = { text: 'utterance', label: 'intent' };
    const result: StepResult = await env.run(
      activities.load,
      input({ path: 'intents.jsonl', columns, max_bad_fraction: 0.2 }, {}, dir),
    );
    assert.equal(result.outputs.rows, 36);
    assert.equal(result.outputs.quarantined, 4);
    assert.match(result.summary, /36 rows from intents\.jsonl, 4 records quarantined/);
    const set = await rowsOf(result.outputs.quarantine as ArtifactRef);
    assert.deepEqual(
      set.map((r) => [r.row, (r.reason as string).replace(/: .*/s, '')]),
      [
        [5, 'invalid JSON'],
        [10, 'invalid UTF-8'],
        [15, 'lacks field "utterance", which columns maps'],
        [20, 'each line must be a JSON object'],
      ],
    );
    assert.match(set[0]!.record as string, /^\{"utterance": "play$/, 'the record as it was in the file');
    // Over max_bad_fraction (default 5%: 4 of 40 is 10%) the step fails, naming the reasons.
    const tooMany = await failure(env.run(activities.load, input({ path: 'intents.jsonl', columns }, {}, dir)));
    assert.equal(tooMany.type, 'TooManyBadRows');
    assert.match(
      tooMany.message,
      /4 of 40 rows \(10\.0%\) were quarantined, above max_bad_fraction 0\.05\. Reasons: invalid JSON: .*First: row 5/,
    );
    // on_bad_record: fail stops at the first one, with its line.
    const strict = await failure(
      env.run(activities.load, input({ path: 'intents.jsonl', columns, on_bad_record: 'fail' }, {}, dir)),
    );
    assert.match(strict.message, /^intents\.jsonl:5: invalid JSON/);
    // A CSV row with the wrong number of fields is quarantined the same way.
    writeFileSync(
      join(dir, 'rows.csv'),
      ['text,label', ...Array.from({ length: 30 }, (_, i) => `t${i},a`), 'short'].join('\n'),
    );
    const csv: StepResult = await env.run(activities.load, input({ path: 'rows.csv', max_bad_fraction: 0.1 }, {}, dir));
    assert.deepEqual([csv.outputs.rows, csv.outputs.quarantined], [30, 1]);
  });

  test('load failures say what is wrong and are not retried', async () => {
    const env = new MockActivityEnvironment();
    const badColumn = await failure(
      env.run(activities.load, input({ path: 'data/snips-intents-sample.jsonl', columns: { label: 'intnt' } })),
    );
    assert.equal(badColumn.type, 'InvalidStepInput');
    assert.equal(badColumn.nonRetryable, true);
    assert.match(
      badColumn.message,
      /column "label" maps to field "intnt", which data\/snips-intents-sample.jsonl does not have in any of its first 100 records; its fields: text, intent/,
    );
    const escape = await failure(env.run(activities.load, input({ path: '../package.json' })));
    assert.equal(escape.type, 'DataPathError');
    const unknownFormat = await failure(env.run(activities.load, input({ path: 'data/README.md' })));
    assert.match(unknownFormat.message, /cannot tell the format of README\.md/);
  });

  test('clean quarantines bad rows with row numbers and reasons, and fails above the bad-row threshold', async () => {
    const env = new MockActivityEnvironment();
    const dir = mkdtempSync(join(home, 'src-'));
    const lines = [
      { text: 'Play <b>jazz</b>', label: 'PlayMusic' },
      { text: 'play jazz', label: 'PlayMusic' },
      { text: '', label: 'PlayMusic' },
      { text: 'book a table', label: 'BookRestaurant' },
      { text: 'rate it five', label: 'Unknown' },
    ];
    writeFileSync(join(dir, 'rows.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
    const loaded: StepResult = await env.run(activities.load, input({ path: 'rows.jsonl' }, {}, dir));
    const source = { dataset: loaded.outputs.dataset as ArtifactRef };
    const labels = ['PlayMusic', 'BookRestaurant'];

    const tolerant: StepResult = await env.run(
      activities.clean,
      input({ lowercase: true, labels, max_bad_fraction: 0.5 }, source, dir),
    );
    assert.deepEqual(
      {
        rows: tolerant.outputs.rows,
        quarantined: tolerant.outputs.quarantined,
        duplicates: tolerant.outputs.duplicates,
      },
      { rows: 2, quarantined: 2, duplicates: 1 },
    );
    assert.deepEqual(await rowsOf(tolerant.outputs.dataset as ArtifactRef), [
      { text: 'play jazz', label: 'PlayMusic' },
      { text: 'book a table', label: 'BookRestaurant' },
    ]);
    // A later step can tell where rows went: clean left out 3 of the 5 loaded; a split divides on purpose.
    const split: StepResult = await env.run(
      activities.split,
      input(
        { train: 0.5, validation: 0.5, test: 0, seed: 1 },
        { dataset: tolerant.outputs.dataset as ArtifactRef },
        dir,
      ),
    );
    const chain = await datasetChain(deps.store, (split.outputs.validation as ArtifactRef).sha256);
    assert.deepEqual(
      chain.map((d) => [d.activity, d.rows]),
      [
        ['load', 5],
        ['clean', 2],
        ['split', 1],
      ],
    );
    assert.deepEqual(droppedRows(chain), [{ step: 'step', activity: 'clean', dropped: 3 }]);
    assert.equal(droppedSummary(droppedRows(chain)), '3 rows left out upstream (step 3)');
    const quarantine = await rowsOf(tolerant.outputs.quarantine as ArtifactRef);
    assert.deepEqual(
      quarantine.map((q) => [q.row, q.reason]),
      [
        [3, 'text is empty after cleaning'],
        [5, 'label "Unknown" is not one of the allowed labels'],
      ],
    );

    const strict = await failure(env.run(activities.clean, input({ labels, max_bad_fraction: 0.1 }, source, dir)));
    assert.equal(strict.type, 'TooManyBadRows');
    assert.match(
      strict.message,
      /^2 of 5 rows \(40\.0%\) were quarantined, above max_bad_fraction 0\.1\. Reasons: text is empty after cleaning: 1; label "Unknown" is not one of the allowed labels: 1\. First: row 3\. Quarantined rows are in artifact [0-9a-f]{64}\.$/,
    );
  });

  test('load quarantines a record over max_record_bytes (1 MiB by default) by its size and keeps the rest', async () => {
    const env = new MockActivityEnvironment();
    const dir = mkdtempSync(join(home, 'long-'));
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `row ${i}` }));
    lines[7] = JSON.stringify({ text: 'z'.repeat(3 * 1024 * 1024) });
    writeFileSync(join(dir, 'long.jsonl'), lines.join('\n'));
    const loaded: StepResult = await env.run(activities.load, input({ path: 'long.jsonl' }, {}, dir));
    assert.equal(loaded.outputs.rows, 29);
    assert.equal(loaded.outputs.quarantined, 1);
    const [set] = await rowsOf(loaded.outputs.quarantine as ArtifactRef);
    assert.equal(set!.row, 8);
    assert.match(String(set!.reason), /^the line is 3145739 bytes, over max_record_bytes \(1048576\)/);
    const raised: StepResult = await env.run(
      activities.load,
      input({ path: 'long.jsonl', max_record_bytes: 4 * 1024 * 1024 }, {}, dir),
    );
    assert.equal(raised.outputs.rows, 30, 'a higher limit reads it');
  });

  test('a cancelled load stops at its next heartbeat', async () => {
    const dir = mkdtempSync(join(home, 'big-'));
    writeFileSync(
      join(dir, 'big.jsonl'),
      Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ text: `row ${i}` })).join('\n'),
    );
    const env = new MockActivityEnvironment();
    env.on('heartbeat', () => env.cancel());
    await assert.rejects(
      env.run(activities.load, { ...input({ path: 'big.jsonl' }, {}, dir), cache: false }),
      (e: unknown) => e instanceof CancelledFailure,
    );
  });

  test('long texts never hold up the worker: load, clean and tokenize give way every few tens of milliseconds', async () => {
    // 30 texts of 100 kB: one chunk of them took tokenize about 4 s of unbroken computing.
    const dir = mkdtempSync(join(home, 'long-texts-'));
    const random = seededRandom(7);
    const words = Array.from({ length: 3000 }, () =>
      Array.from({ length: 2 + Math.floor(random() * 8) }, () =>
        String.fromCharCode(97 + Math.floor(random() * 26)),
      ).join(''),
    );
    const lines = Array.from({ length: 30 }, (_, i) => {
      const text = Array.from({ length: 17_000 }, () => words[Math.floor(random() * words.length)]).join(' ');
      return JSON.stringify({ text, label: `l${i % 3}` });
    });
    writeFileSync(join(dir, 'long.jsonl'), lines.join('\n') + '\n');
    const env = new MockActivityEnvironment();
    const longest = async <T>(work: () => Promise<T>): Promise<{ result: T; delayMs: number }> => {
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      try {
        return { result: await work(), delayMs: delay.max / 1e6 };
      } finally {
        delay.disable();
      }
    };
    const run = (
      activity: (input: StepInput) => Promise<StepResult>,
      withValues: Record<string, unknown>,
      inputs = {},
    ) => longest<StepResult>(() => env.run(activity, { ...input(withValues, inputs, dir), cache: false }));
    const loaded = await run(activities.load, { path: 'long.jsonl' });
    const cleaned = await run(activities.clean, {}, { dataset: loaded.result.outputs.dataset });
    const tokenized = await run(activities.tokenize, { vocab_size: 1000 }, { dataset: cleaned.result.outputs.dataset });
    assert.equal(tokenized.result.outputs.unknown_tokens, 0);
    for (const [step, { delayMs }] of Object.entries({ load: loaded, clean: cleaned, tokenize: tokenized }))
      assert.ok(delayMs < 1_000, `${step} held the event loop for ${delayMs.toFixed(0)} ms`);
  });
});
