import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../core/artifacts';

/** Which training a checkpoint belongs to: one step of one workflow run, one epoch. */
export interface JournalKey {
  readonly workflowId: string;
  readonly runId: string;
  readonly step: string;
  readonly epoch: number;
}

/**
 * The checkpoints a training epoch has written, in order, so a retried attempt on any worker can
 * find the newest one even when the heartbeat that named it never reached the server. Lines are
 * appended after the artifact is complete; a torn last line is ignored.
 */
export class CheckpointJournal {
  constructor(private readonly root: string) {}

  async append(key: JournalKey, ref: ArtifactRef): Promise<void> {
    const path = this.path(key);
    await mkdir(join(path, '..'), { recursive: true });
    await appendFile(path, JSON.stringify(ref) + '\n');
  }

  /** The checkpoints written for `key`, oldest first. */
  async list(key: JournalKey): Promise<ArtifactRef[]> {
    const text = await readFile(this.path(key), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return parseLines(text);
  }

  /** Every checkpoint named by any journal: the resume points of epochs still in flight. */
  async all(): Promise<ArtifactRef[]> {
    const files = (await readdir(this.root, { recursive: true }).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.jsonl'),
    );
    const refs: ArtifactRef[] = [];
    for (const file of files) refs.push(...parseLines(await readFile(join(this.root, file), 'utf8')));
    return refs;
  }

  /** Forgets an epoch's journal once the epoch is committed. */
  async clear(key: JournalKey): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  private path(key: JournalKey): string {
    return join(this.root, safe(key.workflowId), safe(key.runId), `${safe(key.step)}.epoch${key.epoch}.jsonl`);
  }
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function parseLines(text: string): ArtifactRef[] {
  const refs: ArtifactRef[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      refs.push(JSON.parse(line) as ArtifactRef);
    } catch {
      // A line cut short by a crash names no complete checkpoint.
    }
  }
  return refs;
}
