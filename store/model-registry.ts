import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../core/artifacts';
import type { TrainTask } from '../core/metrics';
import { failureClass } from '../core/failures';

/** One registered model version: what serving needs, how good it was, and where it came from. */
export interface ModelVersion {
  readonly name: string;
  readonly version: number;
  readonly task: TrainTask;
  readonly checkpoint: ArtifactRef;
  readonly tokenizer: ArtifactRef;
  readonly labels: readonly string[];
  readonly metrics: Readonly<Record<string, number>>;
  readonly lineage: {
    readonly pipeline: string;
    readonly workflowId: string;
    readonly runId: string;
    readonly step: string;
    /** Digests of the artifacts the model was made from (checkpoint, tokenizer, metrics report). */
    readonly parents: readonly string[];
  };
  /** Identifies the deploy that created the version; a retried or replayed deploy finds it again. */
  readonly deployKey: string;
  readonly createdAt: string;
}

/** A change of the deployed version, as kept in the model's history. */
export interface Promotion {
  readonly version: number;
  readonly at: string;
  readonly reason: 'deploy' | 'rollback';
  readonly from?: number;
}

/** The registry refused a request: unknown model or version, or nothing to roll back to. */
export class RegistryError extends failureClass('RegistryError') {}

/** A concurrent deploy of the same model has not settled yet: trying again may find it done. */
export class RegistryConflict extends failureClass('RegistryConflict') {}

/**
 * Models by name under `<root>/<name>/`: immutable version records (`versions/<n>.json`, each number
 * claimed with an exclusive create so two writers never get the same one), `current.json` naming the deployed
 * version (replaced atomically), and `history.jsonl`, every promotion and rollback in order.
 */
export class ModelRegistry {
  constructor(readonly root: string) {}

  async names(): Promise<string[]> {
    return (await readdir(this.root).catch(() => [] as string[])).sort();
  }

  async versions(name: string): Promise<ModelVersion[]> {
    const dir = join(this.dir(name), 'versions');
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^\d+\.json$/.test(f));
    const versions = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as ModelVersion),
    );
    return versions.sort((a, b) => a.version - b.version);
  }

  async version(name: string, version: number): Promise<ModelVersion> {
    const found = (await this.versions(name)).find((v) => v.version === version);
    if (!found) throw new RegistryError(`model "${name}" has no version ${version}`);
    return found;
  }

  /** The deployed version, or undefined when none is. */
  async current(name: string): Promise<ModelVersion | undefined> {
    const pointer = await readFile(join(this.dir(name), 'current.json'), 'utf8').catch(() => undefined);
    if (pointer === undefined) return undefined;
    return this.version(name, (JSON.parse(pointer) as { version: number }).version);
  }

  async history(name: string): Promise<Promotion[]> {
    const text = await readFile(join(this.dir(name), 'history.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Promotion);
  }

  /** The version a deploy with this key registered before, if any. */
  async findByDeployKey(name: string, deployKey: string): Promise<ModelVersion | undefined> {
    return (await this.versions(name)).find((v) => v.deployKey === deployKey);
  }

  /**
   * Registers a new version (numbered after the highest ever claimed) unless one with the same
   * deploy key exists. The key is claimed first, so a retried deploy racing the original still
   * ends with one version.
   */
  async register(entry: Omit<ModelVersion, 'version' | 'createdAt'>): Promise<ModelVersion> {
    checkName(entry.name);
    const existing = await this.findByDeployKey(entry.name, entry.deployKey);
    if (existing) return existing;
    const keys = join(this.dir(entry.name), 'keys');
    const dir = join(this.dir(entry.name), 'versions');
    await mkdir(keys, { recursive: true });
    await mkdir(dir, { recursive: true });
    const keyFile = join(keys, createHash('sha256').update(entry.deployKey).digest('hex'));
    if (!(await createExclusive(keyFile))) return this.awaitDeployKey(entry.name, entry.deployKey);
    for (;;) {
      const claimed = (await readdir(dir)).map((f) => /^(\d+)\.claim$/.exec(f)).filter((m) => m !== null);
      const version = Math.max(0, ...claimed.map((m) => Number(m[1]))) + 1;
      if (!(await createExclusive(join(dir, `${version}.claim`)))) continue;
      const record: ModelVersion = { ...entry, version, createdAt: new Date().toISOString() };
      const tmp = join(dir, `.${version}.${randomUUID()}.partial`);
      await writeFile(tmp, JSON.stringify(record, null, 2));
      await rename(tmp, join(dir, `${version}.json`));
      return record;
    }
  }

  private async awaitDeployKey(name: string, deployKey: string): Promise<ModelVersion> {
    for (let waited = 0; waited < 30_000; waited += 100) {
      const found = await this.findByDeployKey(name, deployKey);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new RegistryConflict(`another deploy of "${name}" claimed this deploy but registered no version within 30 s`);
  }

  /** Makes `version` the deployed one, atomically, and records why. */
  async promote(name: string, version: number, reason: Promotion['reason'] = 'deploy'): Promise<Promotion> {
    await this.version(name, version);
    const from = (await this.current(name))?.version;
    const promotion: Promotion = {
      version,
      at: new Date().toISOString(),
      reason,
      ...(from !== undefined && { from }),
    };
    const dir = this.dir(name);
    const tmp = join(dir, `.current.${randomUUID()}.partial`);
    await writeFile(tmp, JSON.stringify({ version, promotedAt: promotion.at }));
    await rename(tmp, join(dir, 'current.json'));
    await appendFile(join(dir, 'history.jsonl'), JSON.stringify(promotion) + '\n');
    return promotion;
  }

  /** Returns to `to`, or to the version deployed before the current one. */
  async rollback(name: string, to?: number): Promise<Promotion> {
    const current = await this.current(name);
    if (!current) throw new RegistryError(`model "${name}" has no deployed version to roll back from`);
    let target = to;
    if (target === undefined) {
      // The newest version older than the current one that was ever deployed.
      const deployed = new Set((await this.history(name)).map((p) => p.version));
      target = [...deployed].filter((v) => v < current.version).sort((a, b) => b - a)[0];
      if (target === undefined) throw new RegistryError(`model "${name}" has no earlier deployed version`);
    }
    if (target === current.version) throw new RegistryError(`version ${target} of "${name}" is already deployed`);
    return this.promote(name, target, 'rollback');
  }

  private dir(name: string): string {
    checkName(name);
    return join(this.root, name);
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new RegistryError(`"${name}" is not a model name: use letters, digits, ".", "_" and "-"`);
}

/** Creates `path` if it does not exist; false when another writer got there first. */
async function createExclusive(path: string): Promise<boolean> {
  try {
    await (await open(path, 'wx')).close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
