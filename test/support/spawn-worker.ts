import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { PipewrightConfig } from '../../worker/config';

/** Starts `test-worker.js` in its own process for `config`, resolving once it polls. */
export function spawnTestWorker(config: PipewrightConfig): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, 'test-worker.js')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporalAddress,
      PIPEWRIGHT_TASK_QUEUE: config.taskQueue,
      PIPEWRIGHT_HOME: config.home,
      PIPEWRIGHT_PIPELINES: config.pipelinesDir,
      PIPEWRIGHT_DATA_ROOTS: config.dataRoots.join(':'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`test worker exited with ${code} before it was ready`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) resolve(child);
    });
  });
}

/** Ends a process at once, as a crash or `kill -9` would, and waits until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await gone;
}
