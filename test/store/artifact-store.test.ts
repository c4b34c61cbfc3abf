import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { readDataset, writeDataset } from '../../store/arrow-io';
import { ArtifactIntegrityError, FileArtifactStore, StoreWriteError } from '../../store/artifact-store';
import { cacheKey, StepCache } from '../../store/step-cache';

const exec = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'pipewright-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

const rows = [
  { text: 'play some jazz', label: 'PlayMusic', tokens: ['play', 'some', 'jazz'], n: 3 },
  { text: 'rain tomorrow?', label: 'GetWeather', tokens: ['rain', 'tomorrow', '?'], n: 3 },
  { text: null, label: 'GetWeather', tokens: [], n: 0 },
];

describe('content-addressed artifact store', () => {
  test('a dataset round-trips through Arrow with typed columns and one record batch per chunk', async () => {
    const store = new FileArtifactStore(join(root, 'a'));
    const ref = await writeDataset(store, { kind: 'dataset' }, [rows.slice(0, 2), rows.slice(2)]);
    assert.equal(ref.rows, 3);
    assert.deepEqual(ref.schema, [
      { name: 'text', type: 'utf8' },
      { name: 'label', type: 'utf8' },
      { name: 'tokens', type: 'list<utf8>' },
      { name: 'n', type: 'int32' },
    ]);
    const chunks = [];
    for await (const chunk of readDataset(store, ref)) chunks.push(chunk);
    assert.equal(chunks.length, 2);
    assert.deepEqual(chunks.flat(), rows);
  });

  test('the address is the SHA-256 of the bytes, so equal content is stored once', async () => {
    const store = new FileArtifactStore(join(root, 'b'));
    const first = await writeDataset(store, { kind: 'dataset' }, [rows]);
    const second = await writeDataset(store, { kind: 'dataset' }, [rows]);
    assert.equal(first.sha256, second.sha256);
    const { createHash } = await import('node:crypto');
    assert.equal(
      createHash('sha256')
        .update(readFileSync(await store.localPath(first)))
        .digest('hex'),
      first.sha256,
    );
    assert.deepEqual(
      await store.read(first),
      readFileSync(await store.localPath(first)),
      'read gives the verified bytes',
    );
    assert.deepEqual(readdirSync(join(root, 'b', 'tmp')), [], 'no temp files are left behind');
  });

  test('a corrupted or missing artifact is detected on read and named', async () => {
    const store = new FileArtifactStore(join(root, 'c'));
    const ref = await writeDataset(store, { kind: 'dataset' }, [rows]);
    const path = await store.localPath(ref);
    const bytes = readFileSync(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    writeFileSync(path, bytes);
    await assert.rejects(
      store.localPath(ref),
      (e: unknown) =>
        e instanceof ArtifactIntegrityError && /is corrupt/.test(e.message) && e.message.includes(ref.sha256),
    );
    assert.equal(await store.verify(ref), false);
    await assert.rejects(
      store.read(ref),
      (e: unknown) => e instanceof ArtifactIntegrityError && /is corrupt/.test(e.message),
    );
    rmSync(path);
    await assert.rejects(store.localPath(ref), /is missing/);
    await assert.rejects(store.read(ref), /is missing/);
  });

  test('a writer that fails midway leaves nothing under a real name', async () => {
    const store = new FileArtifactStore(join(root, 'd'));
    await assert.rejects(
      store.write({ kind: 'dataset' }, async (out) => {
        out.write('partial bytes');
        await Promise.resolve();
        throw new Error('disk on fire');
      }),
      /disk on fire/,
    );
    assert.deepEqual(readdirSync(join(root, 'd', 'tmp')), []);
    assert.throws(() => readdirSync(join(root, 'd', 'objects')), /ENOENT/);
  });

  test('parallel processes writing the same artifact do not corrupt it', async () => {
    const dir = join(root, 'e');
    const script = `
      const { FileArtifactStore } = require(${JSON.stringify(join(__dirname, '..', '..', 'store', 'artifact-store.js'))});
      const { writeDataset } = require(${JSON.stringify(join(__dirname, '..', '..', 'store', 'arrow-io.js'))});
      const rows = Array.from({ length: 20000 }, (_, i) => ({ text: 'row ' + i, label: i % 7 }));
      const chunks = []; for (let i = 0; i < rows.length; i += 1000) chunks.push(rows.slice(i, i + 1000));
      writeDataset(new FileArtifactStore(${JSON.stringify(dir)}), { kind: 'dataset' }, chunks).then((ref) => process.stdout.write(ref.sha256));
    `;
    const digests = await Promise.all(
      Array.from({ length: 4 }, () => exec(process.execPath, ['-e', script]).then((r) => r.stdout)),
    );
    assert.equal(new Set(digests).size, 1);
    const store = new FileArtifactStore(dir);
    assert.equal(await store.verify({ sha256: digests[0]! }), true);
  });
});

describe('step cache', () => {
  test('the key changes with activity, version, params and input digests, not with key order', () => {
    const base = { activity: 'clean', version: '1', params: { a: 1, b: [1, 2] }, inputs: { dataset: { sha256: 'x' } } };
    const key = cacheKey(base);
    assert.equal(cacheKey({ ...base, params: { b: [1, 2], a: 1 } }), key);
    for (const changed of [
      { activity: 'load' },
      { version: '2' },
      { params: { a: 2, b: [1, 2] } },
      { inputs: { dataset: { sha256: 'y' } } },
    ]) {
      assert.notEqual(cacheKey({ ...base, ...changed }), key, JSON.stringify(changed));
    }
  });

  test('a hit counts only while every output artifact still exists and verifies', async () => {
    const store = new FileArtifactStore(join(root, 'f'));
    const cache = new StepCache(join(root, 'f-cache'), store);
    const dataset = await writeDataset(store, { kind: 'dataset' }, [rows]);
    await cache.save('k1', { outputs: { dataset, rows: 3 }, summary: 's' });
    assert.deepEqual((await cache.lookup('k1'))?.outputs.rows, 3);
    rmSync(await store.localPath(dataset));
    assert.equal(await cache.lookup('k1'), undefined, 'deleted artifact: a miss, not a stale hit');
    assert.equal(await cache.lookup('never-saved'), undefined);
  });

  /** Runs `body` on a small tmpfs mounted here for the test; skipped where this process may not mount. */
  async function onTmpfs(t: TestContext, body: (dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(root, 'mnt-'));
    try {
      await exec('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    } catch {
      t.skip('needs permission to mount a tmpfs (root)');
      return;
    }
    try {
      await body(dir);
    } finally {
      await exec('umount', [dir]);
    }
  }

  test(
    'a full or read-only disk fails the write with StoreWriteError naming the store, and nothing crashes or hangs',
    { timeout: 20_000 },
    async (t) => {
      await onTmpfs(t, async (dir) => {
        const store = new FileArtifactStore(join(dir, 'artifacts'));
        const big = Array.from({ length: 40 }, (_, i) => [
          { text: 'x'.repeat(10_000), label: String(i), tokens: [], n: i },
        ]);
        const full = await writeDataset(store, { kind: 'dataset' }, big).catch((e: unknown) => e);
        assert.ok(full instanceof StoreWriteError, String(full));
        assert.match(
          full.message,
          /cannot write to the artifact store at .*artifacts: it has no space left on its disk \(ENOSPC\)/,
        );
        assert.equal(full.nonRetryable, true);
        assert.deepEqual(readdirSync(join(dir, 'artifacts', 'tmp')), [], 'the partial file is removed');

        await exec('mount', ['-o', 'remount,ro', dir]);
        const readOnly = await writeDataset(store, { kind: 'dataset' }, [rows]).catch((e: unknown) => e);
        assert.ok(readOnly instanceof StoreWriteError, String(readOnly));
        assert.match(readOnly.message, /it is on a read-only file system \(EROFS\)/);
        // A producer that waits for the stream to drain is not left waiting when the file fails.
        const chunk = Buffer.alloc(1 << 20);
        const blocked = await store
          .write({ kind: 'dataset' }, async (out) => {
            for (let i = 0; i < 8; i++) if (!out.write(chunk)) await once(out, 'drain');
          })
          .catch((e: unknown) => e);
        assert.ok(blocked instanceof StoreWriteError, String(blocked));
        // A store whose folders do not exist yet on a read-only disk says the same (not ENOENT).
        const fresh = await writeDataset(new FileArtifactStore(join(dir, 'other')), { kind: 'dataset' }, [rows]).catch(
          (e: unknown) => e,
        );
        assert.ok(fresh instanceof StoreWriteError, String(fresh));
      });
    },
  );
});
