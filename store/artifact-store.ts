import { createHash, randomUUID, webcrypto } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactKind, ArtifactRef } from '../core/artifacts';
import { failureClass } from '../core/failures';

/** Who made an artifact and from what: enough to walk lineage back to source files. */
export interface ArtifactProvenance {
  readonly workflowId?: string;
  readonly runId?: string;
  readonly step?: string;
  readonly activity?: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly parents?: readonly string[];
  readonly sources?: readonly string[];
}

export interface ArtifactDescription {
  readonly kind: ArtifactKind;
  readonly rows?: number;
  readonly schema?: ArtifactRef['schema'];
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly provenance?: ArtifactProvenance;
}

/** An artifact's stored metadata: its reference, when it was made, and by what from what. */
export type StoredArtifact = ArtifactRef & { readonly createdAt: string; readonly provenance: ArtifactProvenance };

/** Raised when stored bytes no longer match their address, or an artifact is missing. */
export class ArtifactIntegrityError extends failureClass('ArtifactIntegrityError') {
  constructor(
    message: string,
    readonly sha256: string,
  ) {
    super(message);
  }
}

/** The store cannot take a write — a read-only or full disk, no permission: retrying at once cannot help. */
export class StoreWriteError extends failureClass('StoreWriteError') {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

const WRITE_FAILURES: Readonly<Record<string, string>> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable by this process',
  EPERM: 'is not writable by this process',
  ENOSPC: 'has no space left on its disk',
  EDQUOT: 'is over its disk quota',
};

/**
 * A write failure of the store's file system as a StoreWriteError naming the store and what to do,
 * or the error itself when it is something else. (Node's recursive mkdir reports a read-only file
 * system as ENOENT, so the store's root is probed for the real reason.)
 */
async function writeFailure(error: unknown, root: string): Promise<unknown> {
  let code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') code = (await unwritableBecause(root)) ?? code;
  const what = code === undefined ? undefined : WRITE_FAILURES[code];
  if (what === undefined) return error;
  return new StoreWriteError(
    `cannot write to the artifact store at ${root}: it ${what} (${code}); free space, fix its permissions or point PIPEWRIGHT_HOME at a writable disk`,
    root,
  );
}

/** Why the nearest existing folder at or above `path` cannot be written to, or undefined when it can. */
async function unwritableBecause(path: string): Promise<string | undefined> {
  for (let at = path; ; at = dirname(at)) {
    try {
      await access(at, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || dirname(at) === at) return code;
    }
  }
}

export type Producer = (out: Writable) => Promise<Partial<ArtifactDescription> | void>;

/** Where artifacts live; a filesystem store now, an object store later, behind the same calls. */
export interface ArtifactStore {
  /**
   * Streams a new artifact into the store; it appears under its digest only once complete.
   * `produce` writes to `out` without ending it and may return what it learned (rows, schema).
   */
  write(description: ArtifactDescription, produce: Producer): Promise<ArtifactRef>;
  /** A local path to the artifact's bytes, after checking they still match the digest. */
  localPath(ref: Pick<ArtifactRef, 'sha256'>): Promise<string>;
  /**
   * The artifact's bytes, read whole and checked against the digest, both off the event loop (a
   * server keeps answering while a model loads); for artifacts that are read whole anyway.
   */
  read(ref: Pick<ArtifactRef, 'sha256'>): Promise<Buffer>;
  /** True when the artifact is present and its bytes verify. */
  verify(ref: Pick<ArtifactRef, 'sha256'>): Promise<boolean>;
  /** Deletes an artifact; a missing one is not an error. */
  remove(sha256: string): Promise<void>;
  /** What is known of a stored artifact (kind, size, provenance), or undefined when it is not stored. */
  metadata(sha256: string): Promise<StoredArtifact | undefined>;
}

/** Content-addressed artifacts in a folder: objects/ab/abcd…, with metadata beside them in meta/. */
export class FileArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  async write(initial: ArtifactDescription, produce: Producer): Promise<ArtifactRef> {
    try {
      return await this.writeArtifact(initial, produce);
    } catch (error) {
      throw await writeFailure(error, this.root);
    }
  }

  private async writeArtifact(initial: ArtifactDescription, produce: Producer): Promise<ArtifactRef> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.partial`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const file = createWriteStream(tmp, { flags: 'wx' });
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      const written = pipeline(hasher, file);
      // The file may fail (read-only, full) while `produce` still runs: the failure is awaited
      // below, and must not be an unhandled rejection in the meantime, which ends the process.
      written.catch(() => undefined);
      let learned: Partial<ArtifactDescription> | void;
      try {
        // A producer waiting for the destroyed stream to drain would wait forever: the file's
        // failure ends the wait (the producer's own outcome is then of no interest).
        const producing = produce(hasher);
        producing.catch(() => undefined);
        const fileFailed = written.then(() => new Promise<never>(() => undefined));
        learned = await Promise.race([producing, fileFailed]);
      } catch (error) {
        // Let the file stream close before the temp file is removed, or it may recreate it afterwards.
        hasher.destroy(error as Error);
        const fileError = await written.then(
          () => undefined,
          (e: unknown) => e,
        );
        // When the file failed first (a full or read-only disk), that is the cause to report.
        throw (fileError as NodeJS.ErrnoException | undefined)?.code !== undefined ? fileError : error;
      }
      const description: ArtifactDescription = { ...initial, ...(learned ?? {}) };
      hasher.end();
      await written;
      await fsyncFile(tmp);
      const sha256 = hash.digest('hex');
      const target = this.objectPath(sha256);
      await mkdir(join(target, '..'), { recursive: true });
      // Same digest means same bytes, so a concurrent writer of the same artifact is harmless.
      await rename(tmp, target);
      const ref: ArtifactRef = {
        kind: description.kind,
        uri: `file://${target}`,
        sha256,
        bytes,
        ...(description.rows !== undefined && { rows: description.rows }),
        ...(description.schema !== undefined && { schema: description.schema }),
        ...(description.meta !== undefined && { meta: description.meta }),
      };
      await this.writeMetadata(ref, description.provenance);
      return ref;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async localPath(ref: Pick<ArtifactRef, 'sha256'>): Promise<string> {
    const path = this.objectPath(ref.sha256);
    const actual = await digestFile(path).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? this.missing(ref) : error;
    });
    if (actual !== ref.sha256) throw this.corrupt(ref, actual);
    return path;
  }

  private missing(ref: Pick<ArtifactRef, 'sha256'>): ArtifactIntegrityError {
    return new ArtifactIntegrityError(`artifact ${ref.sha256} is missing from ${this.root}`, ref.sha256);
  }

  private corrupt(ref: Pick<ArtifactRef, 'sha256'>, actual: string): ArtifactIntegrityError {
    return new ArtifactIntegrityError(`artifact ${ref.sha256} is corrupt: its bytes hash to ${actual}`, ref.sha256);
  }

  async read(ref: Pick<ArtifactRef, 'sha256'>): Promise<Buffer> {
    const bytes = await readFile(this.objectPath(ref.sha256)).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? this.missing(ref) : error;
    });
    // WebCrypto hashes on the thread pool; a Hash object would hash on the event loop.
    const actual = Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
    if (actual !== ref.sha256) throw this.corrupt(ref, actual);
    return bytes;
  }

  async verify(ref: Pick<ArtifactRef, 'sha256'>): Promise<boolean> {
    try {
      await this.localPath(ref);
      return true;
    } catch (error) {
      if (error instanceof ArtifactIntegrityError) return false;
      throw error;
    }
  }

  /** Stored metadata of an artifact, or undefined if it has none. */
  async metadata(sha256: string): Promise<StoredArtifact | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPath(sha256), 'utf8')) as StoredArtifact;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Metadata of every stored artifact. */
  async list(): Promise<StoredArtifact[]> {
    const out: StoredArtifact[] = [];
    const metaRoot = join(this.root, 'meta');
    for (const shard of await readdir(metaRoot).catch(() => [] as string[])) {
      for (const file of await readdir(join(metaRoot, shard))) {
        if (!file.endsWith('.json')) continue;
        out.push(JSON.parse(await readFile(join(metaRoot, shard, file), 'utf8')) as StoredArtifact);
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Deletes an artifact's bytes and metadata. */
  async remove(sha256: string): Promise<void> {
    await rm(this.objectPath(sha256), { force: true });
    await rm(this.metaPath(sha256), { force: true });
  }

  private async writeMetadata(ref: ArtifactRef, provenance: ArtifactProvenance | undefined): Promise<void> {
    const path = this.metaPath(ref.sha256);
    await mkdir(join(path, '..'), { recursive: true });
    const existing = await stat(path).catch(() => undefined);
    if (existing) return;
    const tmp = `${path}.${randomUUID()}.partial`;
    await writeFile(
      tmp,
      JSON.stringify({ ...ref, createdAt: new Date().toISOString(), provenance: provenance ?? {} }, null, 2),
    );
    await fsyncFile(tmp);
    await rename(tmp, path);
  }

  private objectPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ArtifactIntegrityError(`not a sha256 digest: ${sha256}`, sha256);
    return join(this.root, 'objects', sha256.slice(0, 2), sha256);
  }

  private metaPath(sha256: string): string {
    return join(this.root, 'meta', sha256.slice(0, 2), `${sha256}.json`);
  }
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function digestFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
