import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createCatalog } from '../../core/activity-catalog';
import { PipelineError } from '../../compiler/diagnostics';
import { buildPlan } from '../../compiler/load-pipeline';
import { PROJECT_ROOT } from '../../worker/config';
import { FIXTURES } from './corpus';

const catalog = createCatalog();
const everything = join(FIXTURES, 'valid', 'everything.yaml');
const plan = (params?: Record<string, unknown>) =>
  buildPlan(everything, catalog, { pipelinesDir: FIXTURES, ...(params && { params }) });

function compileError(params: Record<string, unknown>): string {
  try {
    plan(params);
  } catch (error) {
    assert.ok(error instanceof PipelineError);
    return error.rendered;
  }
  return assert.fail('expected a compile error');
}

describe('compiling a pipeline to a plan', () => {
  test('applies param and with: defaults, folds param-only expressions, keeps run-time ones', () => {
    const compiled = plan();
    assert.deepEqual(compiled.params, {
      source: 'data/train.jsonl',
      label_field: 'intent',
      limit: 1000,
      strict: false,
      bad_fraction: 0.1,
    });
    const load = compiled.steps.find((s) => s.id === 'load')!;
    assert.deepEqual(load.with, {
      path: 'data/train.jsonl',
      format: 'jsonl',
      columns: { text: 'text', label: 'intent' },
      limit: 1000,
      // The contract's defaults, filled in: the plan shows every setting the step runs with.
      on_bad_record: 'quarantine',
      max_record_bytes: 1_048_576,
      max_bad_fraction: 0.05,
    });
    const strict = compiled.steps.find((s) => s.id === 'clean_strict')!;
    assert.deepEqual([...strict.dependsOn].sort(), ['clean', 'load']);
    assert.ok(strict.when && '$expr' in strict.when);
    assert.equal(strict.queue, 'gpu');
  });

  test('coerces --set strings by the declared type and checks bounds', () => {
    const compiled = plan({ limit: '50', strict: 'true', bad_fraction: '0.2', label_field: 'label' });
    assert.deepEqual(compiled.params, {
      source: 'data/train.jsonl',
      label_field: 'label',
      limit: 50,
      strict: true,
      bad_fraction: 0.2,
    });
    assert.match(compileError({ limit: 'many' }), /param "limit" must be an integer, not "many"/);
    assert.match(compileError({ limit: '0' }), /param "limit" must be >= 1, not 0/);
    assert.match(
      compileError({ label_field: 'tag' }),
      /param "label_field" must be one of "intent", "label", not "tag"/,
    );
    assert.match(
      compileError({ epochs: '3' }),
      /param "epochs" was set but is not declared; declared params: source, label_field, limit, strict, bad_fraction/,
    );
    assert.match(compileError({ constructor: '1' }), /param "constructor" was set but is not declared/);
  });

  test('a param value that breaks an activity schema is reported against the step', () => {
    const rendered = (() => {
      try {
        buildPlan(
          'name: p\nparams:\n  n: { type: integer, default: 0 }\nsteps:\n  - { id: l, uses: load, with: { path: x, limit: "${{ params.n }}" } }\n',
          catalog,
          { pipelinesDir: FIXTURES },
        );
      } catch (error) {
        return (error as PipelineError).rendered;
      }
      return '';
    })();
    assert.match(rendered, /^<inline>:5:50: step "l": with\.limit must be >= 1 \(after resolving params\)/);
  });

  test('maps retry and timeouts to milliseconds, with per-activity defaults', () => {
    const [load, clean] = plan().steps;
    assert.deepEqual(load!.retry, {
      maximumAttempts: 5,
      initialIntervalMs: 500,
      backoffCoefficient: 1.5,
      maximumIntervalMs: 60_000,
    });
    assert.deepEqual(load!.timeouts, { startToCloseMs: 3_600_000, heartbeatMs: 30_000, scheduleToCloseMs: 7_200_000 });
    assert.deepEqual(clean!.timeouts, { startToCloseMs: 600_000, heartbeatMs: 60_000 });
    assert.equal(clean!.cache, false);
    assert.equal(clean!.retry.maximumAttempts, 3);
  });

  test("an epoch loop's other activities get their policies in the plan, within the train step's time", () => {
    const steps = buildPlan(join(PROJECT_ROOT, 'pipelines', 'snips-intent.yaml'), catalog, {
      pipelinesDir: join(PROJECT_ROOT, 'pipelines'),
    }).steps;
    const train = steps.find((step) => step.uses === 'train')!;
    const retry = (maximumAttempts: number) => ({
      maximumAttempts,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 100_000,
    });
    const sixHours = 6 * 3_600_000;
    assert.equal(train.timeouts.startToCloseMs, sixHours);
    assert.deepEqual(train.loop, {
      batch: { queue: 'cpu', retry: retry(3), timeouts: { startToCloseMs: sixHours, heartbeatMs: 60_000 } },
      validate: { queue: 'cpu', retry: retry(3), timeouts: { startToCloseMs: sixHours, heartbeatMs: 60_000 } },
      checkpoint: { queue: 'cpu', retry: retry(5), timeouts: { startToCloseMs: 600_000 } },
    });
    assert.deepEqual(
      steps.filter((step) => step.loop !== undefined).map((step) => step.uses),
      ['train'],
    );
  });

  test('a param without default must be set', () => {
    const yaml =
      'name: p\nparams:\n  data: { type: string }\nsteps:\n  - { id: l, uses: load, with: { path: "${{ params.data }}" } }\n';
    assert.throws(
      () => buildPlan(yaml, catalog, { pipelinesDir: FIXTURES }),
      /<inline>:3:9: param "data" has no default and was not set; pass --set data=<string>/,
    );
    assert.equal(
      buildPlan(yaml, catalog, { pipelinesDir: FIXTURES, params: { data: 'a.csv' } }).steps[0]!.with.path,
      'a.csv',
    );
  });

  test('an unknown pipeline name lists the pipelines there are', () => {
    assert.throws(
      () => buildPlan('nope', catalog, { pipelinesDir: join(FIXTURES, 'valid') }),
      /pipeline "nope" not found .*; pipelines in .*: everything, minimal/,
    );
  });
});
