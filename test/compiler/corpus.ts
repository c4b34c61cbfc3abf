import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCatalog } from '../../core/activity-catalog';
import { formatDiagnostics } from '../../compiler/diagnostics';
import { validatePipelineText } from '../../compiler/load-pipeline';

/** The pipeline fixtures live in the source tree; tests run from dist/, two levels down. */
export const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'pipelines');

export function fixtureNames(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(FIXTURES, kind))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** Validates a fixture as `<kind>/<name>` and renders what `pipewright validate` would print. */
export function renderFixture(kind: 'valid' | 'invalid', name: string): { ok: boolean; output: string } {
  const content = readFileSync(join(FIXTURES, kind, name));
  const result = validatePipelineText({ file: `${kind}/${name}`, content }, createCatalog());
  return result.ok
    ? { ok: true, output: '' }
    : { ok: false, output: formatDiagnostics(result.diagnostics, result.text) + '\n' };
}
