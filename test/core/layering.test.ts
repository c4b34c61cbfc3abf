import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../worker/config';
import { sourcesIn } from '../support/sources';

interface Import {
  /** A package by name, a project file as its path from the project root. */
  readonly target: string;
  /** `import type`: erased when compiled, so it loads nothing at run time. */
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  const statements = [...text.matchAll(/^(?:import|export)( type)?[^;]*?from '([^']+)'/gm)];
  const calls = [...text.matchAll(/\b(?:import|require)\('([^']+)'\)/g)];
  return [
    ...statements.map(([, typeKeyword, specifier]) => ({ specifier: specifier!, typeOnly: typeKeyword !== undefined })),
    ...calls.map(([, specifier]) => ({ specifier: specifier!, typeOnly: false })),
  ].map(({ specifier, typeOnly }) => ({
    target: specifier.startsWith('.') ? posix.normalize(posix.join(dirname(file), specifier)) : specifier,
    typeOnly,
  }));
}

function violations(folders: readonly string[], forbidden: (found: Import) => boolean): string[] {
  return folders.flatMap((folder) =>
    sourcesIn(folder).flatMap((file) =>
      importsOf(file)
        .filter(forbidden)
        .map(({ target }) => `${file} imports ${target}`),
    ),
  );
}

test('core/ imports nothing but core/: no package, no Node built-in, no other folder', () => {
  assert.ok(sourcesIn('core').length > 10);
  assert.deepEqual(
    violations(['core'], ({ target }) => !target.startsWith('core/')),
    [],
  );
});

test('the runtime layers never import the YAML front end (compiler/)', () => {
  assert.deepEqual(
    violations(['core', 'data', 'store', 'ml', 'workflows', 'serve', 'report'], ({ target }) =>
      target.startsWith('compiler/'),
    ),
    [],
  );
});

test('store/, ml/ and data/ never import Temporal; workflow code loads nothing but Temporal, workflows/ and core/', () => {
  assert.deepEqual(
    violations(['store', 'ml', 'data'], ({ target }) => target.startsWith('@temporalio/')),
    [],
  );
  assert.deepEqual(
    violations(
      ['workflows'],
      ({ target, typeOnly }) =>
        !typeOnly && !['@temporalio/', 'workflows/', 'core/'].some((allowed) => target.startsWith(allowed)),
    ),
    [],
  );
});
