import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every `*.json` file one folder below `root` (`root/<group>/<file>.json`), parsed, with its path and write time. */
export async function readJsonTree<T>(root: string): Promise<{ path: string; value: T; writtenMs: number }[]> {
  const out: { path: string; value: T; writtenMs: number }[] = [];
  for (const group of await readdir(root).catch(() => [] as string[])) {
    for (const file of await readdir(join(root, group))) {
      if (!file.endsWith('.json')) continue;
      const path = join(root, group, file);
      const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      out.push({ path, value: JSON.parse(text) as T, writtenMs: info.mtimeMs });
    }
  }
  return out;
}
