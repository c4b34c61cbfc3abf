import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, fixtureNames, renderFixture } from './corpus';

describe('invalid pipelines report every problem exactly as expected', () => {
  for (const name of fixtureNames('invalid')) {
    test(name, () => {
      const { ok, output } = renderFixture('invalid', name);
      assert.equal(ok, false);
      const expected = readFileSync(join(FIXTURES, 'invalid', name.replace(/\.yaml$/, '.expected')), 'utf8');
      assert.equal(output, expected);
    });
  }
});

describe('valid pipelines pass', () => {
  for (const name of fixtureNames('valid')) {
    test(name, () => {
      const { ok, output } = renderFixture('valid', name);
      assert.equal(output, '');
      assert.equal(ok, true);
    });
  }
});
