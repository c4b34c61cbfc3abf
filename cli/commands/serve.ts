import type { Command } from 'commander';
import { loadBackend } from '../../ml/backend/load-backend';
import { DEFAULT_LIMITS } from '../../serve/http-server';
import { startInferenceServer } from '../../serve/start-server';
import { ServedVersion } from '../../serve/served-version';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { onShutdownSignal } from '../shutdown';
import { UserError } from '../user-error';

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} must be a whole number, not "${value}"`, 2);
    return n;
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve deployed models over HTTP (TensorFlow Serving REST shape), following new deployments live')
    .option('--port <port>', 'port to listen on', positiveInteger('--port'), 8501)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--models <names>', 'comma-separated model names (default: every registered model)')
    .option(
      '--max-batch <n>',
      'most instances batched into one model call (1: no batching)',
      positiveInteger('--max-batch'),
      32,
    )
    .option('--max-wait-ms <ms>', 'longest a request waits for its batch to fill', positiveInteger('--max-wait-ms'), 5)
    .option(
      '--max-instances <n>',
      'most instances per request',
      positiveInteger('--max-instances'),
      DEFAULT_LIMITS.maxInstances,
    )
    .option(
      '--max-text-chars <n>',
      'longest text accepted',
      positiveInteger('--max-text-chars'),
      DEFAULT_LIMITS.maxTextChars,
    )
    .option(
      '--max-body-bytes <n>',
      'largest request body',
      positiveInteger('--max-body-bytes'),
      DEFAULT_LIMITS.maxBodyBytes,
    )
    .option('--poll-ms <ms>', 'how often to look for a newly deployed version', positiveInteger('--poll-ms'), 1_000)
    .option('--token <token>', 'require Authorization: Bearer <token> (or set PIPEWRIGHT_SERVE_TOKEN)')
    .action(
      async (options: {
        port: number;
        host: string;
        models?: string;
        maxBatch: number;
        maxWaitMs: number;
        maxInstances: number;
        maxTextChars: number;
        maxBodyBytes: number;
        pollMs: number;
        token?: string;
      }) => {
        const { store, registry } = openLocalState(loadConfig());
        const token = options.token ?? process.env.PIPEWRIGHT_SERVE_TOKEN;
        const running = await startInferenceServer({
          store,
          registry,
          models: options.models?.split(',').filter(Boolean) ?? [],
          port: options.port,
          host: options.host,
          batching: { maxBatch: Math.max(1, options.maxBatch), maxWaitMs: options.maxWaitMs },
          limits: {
            ...DEFAULT_LIMITS,
            maxInstances: options.maxInstances,
            maxTextChars: options.maxTextChars,
            maxBodyBytes: options.maxBodyBytes,
          },
          ...(token !== undefined && { token }),
          pollMs: Math.max(100, options.pollMs),
          log: (line) => process.stdout.write(`${line}\n`),
        });
        process.stdout.write(`API description: ${running.url}/openapi.json — Ctrl-C to stop\n`);
        await new Promise<void>((resolve) => onShutdownSignal(() => resolve()));
        await running.stop();
      },
    );

  program
    .command('predict')
    .description('Answer texts with the deployed version of a model (labels, or entities), without a server')
    .argument('<name>', 'model name')
    .argument('<texts...>', 'one or more texts')
    .option('--top-k <k>', 'classification: how many labels to show', positiveInteger('--top-k'), 3)
    .option('--version <n>', 'a registered version instead of the deployed one', positiveInteger('--version'))
    .action(async (name: string, texts: string[], options: { topK: number; version?: number }) => {
      const { store, registry } = openLocalState(loadConfig());
      const version =
        options.version !== undefined
          ? await registry.version(name, options.version).catch(() => undefined)
          : await registry.current(name);
      if (!version)
        throw new UserError(
          options.version !== undefined
            ? `model "${name}" has no version ${options.version}`
            : `model "${name}" has no deployed version; registered: ${(await registry.names()).join(', ') || 'none'}`,
          2,
        );
      const { tf } = await loadBackend();
      const served = await ServedVersion.load(tf, store, version);
      try {
        const predictions = served.predict(texts.map((text) => ({ text, topK: options.topK })));
        texts.forEach((text, i) => process.stdout.write(`${served.describe(text, predictions[i]!)}\n`));
        process.stdout.write(`${name} version ${version.version}\n`);
      } finally {
        served.dispose();
      }
    });
}
