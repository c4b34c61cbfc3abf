import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_LIMITS, InferenceServer } from '../../serve/http-server';
import { openLocalState } from '../../worker/local-state';

const root = mkdtempSync(join(tmpdir(), 'pipewright-abuse-'));
after(() => rmSync(root, { recursive: true, force: true }));
const { store, registry, runs } = openLocalState({ home: root });

const HEADERS_TIMEOUT_MS = 1_000;

async function startServer(limits: Partial<typeof DEFAULT_LIMITS> = {}) {
  const server = new InferenceServer({
    models: new Map(),
    store,
    registry,
    runs,
    limits: {
      ...DEFAULT_LIMITS,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      requestTimeoutMs: 2 * HEADERS_TIMEOUT_MS,
      ...limits,
    },
    token: 'secret',
  });
  const { port } = await server.listen(0);
  return { server, port };
}

/** An open loopback connection that records when the server closed it and what it answered. */
interface Probe {
  readonly socket: Socket;
  readonly opened: number;
  closedAt?: number;
  answer: string;
}

function open(port: number, send: (socket: Socket) => void): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const probe: Probe = { socket, opened: Date.now(), answer: '' };
    socket.on('data', (chunk: Buffer) => (probe.answer += chunk.toString('latin1')));
    socket.on('close', () => (probe.closedAt ??= Date.now()));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      send(socket);
      resolve(probe);
    });
    socket.once('error', reject);
  });
}

async function openMany(count: number, port: number, send: (socket: Socket) => void): Promise<Probe[]> {
  const probes: Probe[] = [];
  for (let i = 0; i < count; i += 200)
    probes.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => open(port, send)))));
  return probes;
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

test('2,000 slow clients are cut off by the timeouts while healthy clients keep being answered', async (t) => {
  const { server, port } = await startServer();
  const rssBefore = process.memoryUsage().rss;
  const drips: NodeJS.Timeout[] = [];
  const all: Probe[] = [];
  try {
    // Half send a request head one header at a time and never finish it (slow headers)…
    const slowHeads = await openMany(1_000, port, (socket) => {
      socket.write('POST /v1/models/any:predict HTTP/1.1\r\nHost: x\r\n');
      drips.push(setInterval(() => socket.writable && socket.write('X-Drip: 1\r\n'), 300));
    });
    // …half connect and send nothing at all.
    const silent = await openMany(1_000, port, () => undefined);
    all.push(...slowHeads, ...silent);

    const latencies: number[] = [];
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/v1/models`, {
        headers: { authorization: 'Bearer secret' },
      });
      assert.equal(response.status, 200, `healthy request ${i}`);
      assert.deepEqual(await response.json(), { models: [], object: 'list', data: [] });
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    t.diagnostic(
      `healthy GET /v1/models beside 2,000 slow connections: p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
    );

    // Every slow connection is closed by the server within its timeout (plus the checking interval).
    await until(() => all.every((p) => p.closedAt !== undefined), HEADERS_TIMEOUT_MS + 3_000);
    const stillOpen = all.filter((p) => p.closedAt === undefined).length;
    assert.equal(stillOpen, 0, `${stillOpen} slow connections are still open`);
    const last = Math.max(...all.map((p) => p.closedAt! - p.opened));
    assert.ok(last < HEADERS_TIMEOUT_MS + 2_500, `slow connections closed after at most ${last} ms`);
    const rssGrowth = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    t.diagnostic(`resident memory grew ${rssGrowth.toFixed(1)} MB over the abuse`);
    assert.ok(rssGrowth < 200, `memory stays bounded (grew ${rssGrowth.toFixed(1)} MB)`);
  } finally {
    // A failed assertion leaves connections open, and the server's close waits for them.
    for (const drip of drips) clearInterval(drip);
    for (const probe of all) probe.socket.destroy();
    await server.close();
  }
});

test('connections beyond max_connections are closed as they arrive; the server answers again once they go', async () => {
  const { server, port } = await startServer({ maxConnections: 50 });
  const idle: Probe[] = [];
  try {
    idle.push(...(await openMany(60, port, () => undefined)));
    await until(() => idle.filter((p) => p.closedAt !== undefined).length >= 10, 2_000);
    assert.ok(idle.filter((p) => p.closedAt !== undefined).length >= 10, 'the ten over the cap are closed');
    for (const probe of idle) probe.socket.destroy();
    await until(() => false, 200);
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(response.status, 200);
  } finally {
    for (const probe of idle) probe.socket.destroy();
    await server.close();
  }
});

test('the token is compared in constant time and guards /metrics; probes stay open', async () => {
  const { server, port } = await startServer();
  try {
    const get = (path: string, token?: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    // Tokens of every length, longer and shorter than the real one, are refused alike.
    for (const wrong of ['', 's', 'secre', 'secreT', 'secret!', 'x'.repeat(10_000)])
      assert.equal((await get('/v1/models', wrong)).status, 401, JSON.stringify(wrong.slice(0, 10)));
    assert.equal((await get('/metrics')).status, 401, '/metrics needs the token when one is set');
    assert.equal((await get('/metrics', 'secret')).status, 200);
    assert.equal((await get('/healthz')).status, 200, 'liveness probes need no token');
    assert.equal((await get('/readyz')).status, 200, 'readiness probes need no token');
    const escaped = await get('/v1/models/%E0%A4%A:predict', 'secret');
    assert.equal(escaped.status, 400, 'a malformed %-escape is the client’s mistake, not a 500');
    assert.match(((await escaped.json()) as { error: { message: string } }).error.message, /malformed %-escape/);
  } finally {
    await server.close();
  }
  const open = new InferenceServer({
    models: new Map(),
    store,
    registry,
    runs,
    limits: DEFAULT_LIMITS,
    token: 'secret',
    publicMetrics: true,
  });
  const { port: openPort } = await open.listen(0);
  try {
    assert.equal((await fetch(`http://127.0.0.1:${openPort}/metrics`)).status, 200, 'publicMetrics opens /metrics');
  } finally {
    await open.close();
  }
});
