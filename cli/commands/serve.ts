import type { Command } from 'commander';
import { loadBackend, setIntraOpThreads } from '../../ml/backend/load-backend';
import { InvalidInstanceError, type Instance } from '../../ml/tasks/task';
import { DEFAULT_LIMITS } from '../../serve/http-server';
import { startInferenceServer } from '../../serve/start-server';
import { ServedVersion } from '../../serve/served-version';
import { loadConfig } from '../../worker/config';
import { openLocalState } from '../../worker/local-state';
import { onShutdownSignal } from '../shutdown';
import type { ModelVersion } from '../../store/model-registry';
import { UserError } from '../user-error';

/** A parser of a whole-number option, naming it in its error. */
export function positiveInteger(name: string) {
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
      'most instances batched into one model call, most chat replies decoded together (1: no batching)',
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
      'longest text (or question-answering context) accepted, in characters',
      positiveInteger('--max-text-chars'),
      DEFAULT_LIMITS.maxTextChars,
    )
    .option(
      '--max-body-bytes <n>',
      'largest request body',
      positiveInteger('--max-body-bytes'),
      DEFAULT_LIMITS.maxBodyBytes,
    )
    .option(
      '--headers-timeout-ms <ms>',
      'close a connection that has not sent a whole request head by then',
      positiveInteger('--headers-timeout-ms'),
      DEFAULT_LIMITS.headersTimeoutMs,
    )
    .option(
      '--request-timeout-ms <ms>',
      'answer 408 to a request that has not arrived in full by then',
      positiveInteger('--request-timeout-ms'),
      DEFAULT_LIMITS.requestTimeoutMs,
    )
    .option(
      '--max-connections <n>',
      'most open connections; further ones are closed',
      positiveInteger('--max-connections'),
      DEFAULT_LIMITS.maxConnections,
    )
    .option('--poll-ms <ms>', 'how often to look for a newly deployed version', positiveInteger('--poll-ms'), 1_000)
    .option(
      '--intra-op-threads <n>',
      "threads TensorFlow gives one op (0: one per core); 1 serves small models' single requests faster",
      positiveInteger('--intra-op-threads'),
      0,
    )
    .option('--token <token>', 'require Authorization: Bearer <token> (or set PIPEWRIGHT_SERVE_TOKEN)')
    .option('--public-metrics', 'serve /metrics without the token (a scraper that cannot send one)')
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
        headersTimeoutMs: number;
        requestTimeoutMs: number;
        maxConnections: number;
        pollMs: number;
        intraOpThreads: number;
        token?: string;
        publicMetrics?: boolean;
      }) => {
        if (options.intraOpThreads > 0) setIntraOpThreads(options.intraOpThreads);
        const { store, registry, runs } = openLocalState(loadConfig());
        const token = options.token ?? process.env.PIPEWRIGHT_SERVE_TOKEN;
        const running = await startInferenceServer({
          store,
          registry,
          runs,
          models: options.models?.split(',').filter(Boolean) ?? [],
          port: options.port,
          host: options.host,
          batching: { maxBatch: Math.max(1, options.maxBatch), maxWaitMs: options.maxWaitMs },
          limits: {
            ...DEFAULT_LIMITS,
            maxInstances: options.maxInstances,
            maxTextChars: options.maxTextChars,
            maxBodyBytes: options.maxBodyBytes,
            headersTimeoutMs: Math.max(1, options.headersTimeoutMs),
            requestTimeoutMs: Math.max(1, options.requestTimeoutMs),
            maxConnections: Math.max(1, options.maxConnections),
          },
          ...(token !== undefined && { token }),
          publicMetrics: options.publicMetrics === true,
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
    .description(
      'Answer texts with the deployed version of a model (labels, entities, answers to questions, or generated replies), without a server',
    )
    .argument('<name>', 'model name')
    .argument(
      '<inputs...>',
      'one or more texts; for a question-answering model JSON objects {"question": "…", "context": "…"}',
    )
    .option('--top-k <k>', 'how many labels or answer spans to show', positiveInteger('--top-k'), 3)
    .option('--version <n>', 'a registered version instead of the deployed one', positiveInteger('--version'))
    .action(async (name: string, inputs: string[], options: { topK: number; version?: number }) => {
      const { served, version } = await loadVersion(name, options.version);
      try {
        const instances = inputs.map((input, i) => instanceOf(input, served.instanceFields, i));
        for (const [i, instance] of instances.entries()) {
          try {
            served.check(instance);
          } catch (error) {
            if (error instanceof InvalidInstanceError) throw new UserError(`input ${i + 1}: ${error.message}`, 2);
            throw error;
          }
        }
        const predictions = served.predict(instances.map((instance) => ({ instance, topK: options.topK })));
        instances.forEach((instance, i) => process.stdout.write(`${served.describe(instance, predictions[i]!)}\n`));
        process.stdout.write(`${name} version ${version.version}\n`);
      } finally {
        served.dispose();
      }
    });
}

/** A command-line input as an instance of the model's fields: the text itself, or a JSON object of them. */
function instanceOf(input: string, fields: readonly string[], index: number): Instance {
  if (fields.length === 1 && !input.trimStart().startsWith('{')) return { [fields[0]!]: input };
  const shape = `{${fields.map((f) => `"${f}": "…"`).join(', ')}}`;
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch {
    throw new UserError(`input ${index + 1} must be a JSON object ${shape}`, 2);
  }
  const object = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const missing = fields.filter((f) => typeof object[f] !== 'string' || object[f].trim() === '');
  if (missing.length > 0)
    throw new UserError(`input ${index + 1} must be a JSON object ${shape}; it lacks ${missing.join(', ')}`, 2);
  return Object.fromEntries(fields.map((f) => [f, object[f] as string]));
}

/**
 * The deployed version of a model (or the one asked for), loaded for answering; a clear error when
 * there is none. `predict` and `chat` answer one request at a time, so TensorFlow gives each op
 * one thread (unless TF_NUM_INTRAOP_THREADS says otherwise): at batch 1 a second thread costs
 * more than it gives (README: decoding 1.4×, a classifier's call 1.3× faster).
 */
export async function loadVersion(
  name: string,
  wanted: number | undefined,
): Promise<{ served: ServedVersion; version: ModelVersion }> {
  const { store, registry } = openLocalState(loadConfig());
  const version =
    wanted !== undefined ? await registry.version(name, wanted).catch(() => undefined) : await registry.current(name);
  if (!version)
    throw new UserError(
      wanted !== undefined
        ? `model "${name}" has no version ${wanted}`
        : `model "${name}" has no deployed version; registered: ${(await registry.names()).join(', ') || 'none'}`,
      2,
    );
  if (process.env.TF_NUM_INTRAOP_THREADS === undefined) setIntraOpThreads(1);
  const { tf } = await loadBackend();
  return { served: await ServedVersion.load(tf, store, version), version };
}
