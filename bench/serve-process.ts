import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../worker/config';

/**
 * `pipewright serve` on loopback as its own process (the real CLI) over the registry in `home`,
 * resolved once it says it serves `model`. Stop it with stopServer.
 */
export async function startServer(
  home: string,
  port: number,
  model: string,
  args: readonly string[] = [],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), 'serve', '--port', String(port), '--poll-ms', '200', ...args],
    { env: { ...process.env, PIPEWRIGHT_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on(
      'data',
      (chunk: Buffer) => chunk.toString().match(new RegExp(`serving .*\\b${model}\\b`)) && resolve(),
    );
  });
  return child;
}

export async function stopServer(server: ChildProcess): Promise<void> {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
}
