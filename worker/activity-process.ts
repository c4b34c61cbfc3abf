import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT, type PipewrightConfig } from './config';

/** A worker process running every step (activity) of both queues, restarted if it dies. */
export interface ActivityProcess {
  /** Stops it (running steps checkpoint as on any worker shutdown) and waits for it to exit. */
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1_000;

/**
 * Starts `pipewright worker --role activities` beside a process that runs workflow tasks, so a
 * long step (an epoch, a tokenize) never delays a workflow task or a query. Its output goes to
 * this process's. If it exits on its own it is started again after a second: runs in flight
 * retry their steps on it as after any worker loss.
 */
export function startActivityProcess(config: PipewrightConfig, log: (line: string) => void): ActivityProcess {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restart: NodeJS.Timeout | undefined;
  const launch = () => {
    const started = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), 'worker', '--queue', 'all', '--role', 'activities'],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: config.temporalAddress,
          PIPEWRIGHT_TASK_QUEUE: config.taskQueue,
          PIPEWRIGHT_HOME: config.home,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    started.once('exit', (code, signal) => {
      if (stopping) return;
      log(`the step worker (pid ${started.pid}) exited (${signal ?? `code ${code}`}); starting another`);
      restart = setTimeout(launch, RESTART_DELAY_MS);
    });
    child = started;
  };
  launch();
  return {
    async stop() {
      stopping = true;
      clearTimeout(restart);
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
  };
}
