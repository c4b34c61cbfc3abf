import { Command, CommanderError } from 'commander';
import { PipelineError } from '../compiler/diagnostics';
import { registerArtifacts } from './commands/artifacts';
import { registerCancel } from './commands/cancel';
import { registerChat } from './commands/chat';
import { registerDemo } from './commands/demo';
import { registerDev } from './commands/dev';
import { registerExport } from './commands/export';
import { registerGraph } from './commands/graph';
import { registerList } from './commands/list';
import { registerModels } from './commands/models';
import { registerReport } from './commands/report';
import { registerRun } from './commands/run';
import { registerSchema } from './commands/schema';
import { registerServe } from './commands/serve';
import { registerSetup } from './commands/setup';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
import { registerWorker } from './commands/worker';
import { UserError } from './user-error';

/** Builds the `pipewright` command line. */
export function createProgram(): Command {
  const program = new Command('pipewright')
    .description('Declarative, durable ML pipelines on Temporal')
    .option('--verbose', 'show stack traces on errors')
    .exitOverride()
    .showHelpAfterError();
  for (const register of [
    registerValidate,
    registerRun,
    registerDev,
    registerWorker,
    registerGraph,
    registerStatus,
    registerList,
    registerCancel,
    registerArtifacts,
    registerReport,
    registerModels,
    registerExport,
    registerServe,
    registerChat,
    registerSchema,
    registerSetup,
    registerDemo,
  ]) {
    register(program);
  }
  return program;
}

/** Runs the CLI; user errors print a message (and no stack unless --verbose) and set the exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const verbose = argv.includes('--verbose');
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
    } else if (error instanceof PipelineError) {
      process.stderr.write(`${error.rendered}\n`);
      process.exitCode = 2;
    } else if (error instanceof UserError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(
        verbose && error instanceof Error
          ? `${error.stack}\n`
          : `error: ${(error as Error).message ?? String(error)}\n(run with --verbose for details)\n`,
      );
      process.exitCode = 1;
    }
  }
}

/**
 * Exits once what was written has gone out: a pipe holds 64 KiB, and exiting before a slow reader
 * took the rest would cut the output short. (Exiting at all ends the clients that keep Node alive.)
 */
function exitWhenWritten(): void {
  let pending = 2;
  const written = () => {
    if (--pending === 0) process.exit();
  };
  process.stdout.write('', written);
  process.stderr.write('', written);
}

if (require.main === module) void main(process.argv).then(exitWhenWritten);
