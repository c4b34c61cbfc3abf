import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonTree } from './json-tree';
import { isArtifactRef } from './step-cache';

/** What one finished step of one run produced; these records are the roots that keep artifacts alive. */
export interface StepRecord {
  readonly workflowId: string;
  readonly runId: string;
  readonly pipeline: string;
  readonly step: string;
  readonly activity: string;
  readonly cached: boolean;
  readonly finishedAt: string;
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Step records under `<home>/runs/<workflowId>/<step>.json`. */
export class RunRecords {
  constructor(private readonly root: string) {}

  async record(entry: StepRecord): Promise<void> {
    const dir = join(this.root, safeName(entry.workflowId));
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${safeName(entry.step)}.json`);
    const tmp = `${path}.${randomUUID()}.partial`;
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, path);
  }

  /** Every record, with the time its file was written. */
  async all(): Promise<{ record: StepRecord; path: string; writtenMs: number }[]> {
    return (await readJsonTree<StepRecord>(this.root)).map(({ value, path, writtenMs }) => ({
      record: value,
      path,
      writtenMs,
    }));
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

/** The artifact digests a value (a step's outputs) refers to. */
export function referencedDigests(value: unknown): string[] {
  if (isArtifactRef(value)) return [value.sha256];
  if (Array.isArray(value)) return value.flatMap(referencedDigests);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(referencedDigests);
  return [];
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
