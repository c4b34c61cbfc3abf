import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, type PipewrightConfig } from '../../worker/config';

const run = promisify(execFile);
const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

/** The real CLI in a child process: its exit code and output. */
export async function pipewright(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The environment that points the CLI at a test server and home. */
export function envFor(config: PipewrightConfig): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: config.temporalAddress,
    PIPEWRIGHT_TASK_QUEUE: config.taskQueue,
    PIPEWRIGHT_HOME: config.home,
  };
}
