import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../worker/config';

/** Every `.ts` source file under a top-level folder, as paths relative to the project root. */
export function sourcesIn(folder: string): string[] {
  const entries = readdirSync(join(PROJECT_ROOT, folder), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(PROJECT_ROOT, join(entry.parentPath, entry.name)).split('\\').join('/'));
}
