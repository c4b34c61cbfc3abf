import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { PIPELINE_SEARCH_ATTRIBUTE } from './search-attribute';
import { untilServing } from './until-serving';

export interface DevServerOptions {
  readonly cli: string;
  readonly port?: number;
  /** Web UI port; omit to run without the UI. */
  readonly uiPort?: number;
  /** SQLite file that keeps runs across restarts; omit for an in-memory server. */
  readonly dbFile?: string;
  readonly startTimeoutMs?: number;
}

/** A running `temporal server start-dev` on 127.0.0.1. */
export interface DevServer {
  readonly address: string;
  readonly uiUrl?: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The server's history queues (transfer: a workflow task after an activity completes; timer:
 * retries, timeouts; visibility: what runs are listed as) are read at most 20 times a second by
 * default. A pipeline's steps follow one another through the transfer queue, so once the burst
 * allowed at first was spent every step waited for the next of those reads, ~35 ms
 * (bench/step-overhead). A one-user server can read them as often as tasks arrive.
 */
const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
};

/** Starts the Temporal dev server and resolves once its frontend serves requests. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push('--search-attribute', `${PIPELINE_SEARCH_ATTRIBUTE.name}=Keyword`);
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG))
    args.push('--dynamic-config-value', `${key}=${value}`);
  if (options.uiPort !== undefined) args.push('--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  const child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`Temporal dev server exited during start (${code ?? signal}):\n${output.trim()}`)),
    ),
  );
  const address = `127.0.0.1:${port}`;
  const stop = () => stopProcess(child);
  try {
    await Promise.race([waitUntilServing(address, port, options.startTimeoutMs ?? 60_000), exited]);
  } catch (error) {
    await stop();
    throw error;
  }
  exited.catch(() => undefined);
  return {
    address,
    ...(options.uiPort !== undefined && { uiUrl: `http://127.0.0.1:${options.uiPort}` }),
    process: child,
    stop,
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

/** Waits for the port to accept connections, then for the frontend to answer (it refuses calls while starting). */
async function waitUntilServing(address: string, port: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  await waitForPort(port, timeoutMs);
  const connection = await untilServing(
    () => Connection.connect({ address, connectTimeout: '5s' }),
    Math.max(0, timeoutMs - (Date.now() - started)),
  );
  await connection.close();
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Temporal dev server did not accept connections on port ${port} within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A dev server kept running: started again if it exits while nobody asked it to stop. */
export interface SupervisedDevServer {
  readonly address: string;
  readonly uiUrl?: string;
  /** The pid of the server process running now. */
  readonly pid: () => number | undefined;
  stop(): Promise<void>;
}

/** Restarts within this long of the previous one count as a crash loop. */
const CRASH_LOOP_MS = 60_000;
const MAX_QUICK_RESTARTS = 5;

/**
 * Starts the dev server and starts it again, on the same ports and database file, whenever it
 * dies on its own; workers and clients reconnect by themselves. Gives up (and says so) after
 * five restarts within a minute of each other.
 */
export async function superviseDevServer(
  options: DevServerOptions,
  log: (line: string) => void,
): Promise<SupervisedDevServer> {
  let current = await startDevServer(options);
  let stopping = false;
  let quickRestarts = 0;
  let lastStart = Date.now();
  const watch = (server: DevServer) => {
    server.process.once('exit', (code, signal) => {
      if (stopping) return;
      quickRestarts = Date.now() - lastStart < CRASH_LOOP_MS ? quickRestarts + 1 : 0;
      if (quickRestarts > MAX_QUICK_RESTARTS) {
        log(`the Temporal dev server keeps exiting (last: ${signal ?? `code ${code}`}); not starting it again`);
        return;
      }
      log(
        `the Temporal dev server (pid ${server.process.pid}) exited (${signal ?? `code ${code}`}); starting it again`,
      );
      lastStart = Date.now();
      startDevServer(options).then(
        (next) => {
          current = next;
          if (stopping) void next.stop();
          else {
            log(`the Temporal dev server is back on ${next.address}`);
            watch(next);
          }
        },
        (error: unknown) => log(`could not start the Temporal dev server again: ${(error as Error).message}`),
      );
    });
  };
  watch(current);
  return {
    address: current.address,
    ...(current.uiUrl !== undefined && { uiUrl: current.uiUrl }),
    pid: () => current.process.pid,
    stop: async () => {
      stopping = true;
      await current.stop();
    },
  };
}
