import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidInstanceError, type Instance } from '../ml/tasks/task';
import { recordedRunReport } from '../report/run-report';
import type { ArtifactStore } from '../store/artifact-store';
import type { ModelRegistry } from '../store/model-registry';
import type { RunRecords } from '../store/run-records';
import { ChatRequestError, completeChat, parseChatRequest } from './chat-completions';
import { openApiDocument } from './openapi';
import { Metrics } from './prometheus';
import type { ServedModel } from './served-model';

/** Limits on what a client may send and how long it may take; over them is a 4xx or a closed connection, never a crash. */
export interface ServeLimits {
  readonly maxBodyBytes: number;
  readonly maxInstances: number;
  readonly maxTextChars: number;
  readonly maxTopK: number;
  /** A connection that has not sent a whole request head by then is closed (slow headers). */
  readonly headersTimeoutMs: number;
  /** A request that has not arrived in full by then gets 408 and its connection is closed (slow bodies). */
  readonly requestTimeoutMs: number;
  /** Open connections at most; further ones are closed as they arrive. */
  readonly maxConnections: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxBodyBytes: 1 << 20,
  maxInstances: 64,
  maxTextChars: 10_000,
  maxTopK: 20,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 4_096,
};

export interface InferenceServerOptions {
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly registry: ModelRegistry;
  /** Where the HTML reports of the runs that made the models are found. */
  readonly store: ArtifactStore;
  readonly runs: RunRecords;
  readonly limits: ServeLimits;
  /** When set, every /v1 request, and /metrics unless `publicMetrics`, needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Serve /metrics without the token (for a scraper that cannot send one). */
  readonly publicMetrics?: boolean;
}

/** A request the client got wrong (or a model not ready): its status and a message saying what to do. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/** The HTTP inference API: TensorFlow Serving's REST shape for predictions, plus health, metrics and OpenAPI. */
export class InferenceServer {
  readonly metrics = new Metrics();
  private readonly server: Server;

  constructor(private readonly options: InferenceServerOptions) {
    const { headersTimeoutMs, requestTimeoutMs, maxConnections } = options.limits;
    this.server = createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
        // How often those timeouts are enforced (Node's default is every 30 s).
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, headersTimeoutMs / 4)),
        keepAliveTimeout: 5_000,
      },
      (req, res) => void this.handle(req, res),
    );
    this.server.maxConnections = maxConnections;
  }

  /** Listens on `host:port` (port 0 picks a free one); resolves to the bound address. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve(this.server.address() as AddressInfo));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let route = 'other';
    let status = 500;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      route = routeOf(path);
      let body: unknown;
      if (path === '/healthz') {
        body = { status: 'ok' };
      } else if (path === '/readyz') {
        body = this.readiness();
        if (!(body as { ready: boolean }).ready) throw new HttpError(503, 'not_ready', JSON.stringify(body));
      } else if (path === '/metrics') {
        if (!this.options.publicMetrics) this.authorize(req);
        status = 200;
        this.refreshGauges();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metrics.render());
        return;
      } else if (path === '/openapi.json') {
        body = openApiDocument();
      } else if (path === '/v1/chat/completions') {
        this.authorize(req);
        requireMethod(req, 'POST');
        await this.chatCompletion(req, res);
        status = res.statusCode;
        return;
      } else if (REPORT_ROUTE.test(path)) {
        this.authorize(req);
        requireMethod(req, 'GET');
        const html = await this.runReport(path);
        status = 200;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': REPORT_POLICY });
        res.end(html);
        return;
      } else if (path.startsWith('/v1/')) {
        this.authorize(req);
        body = await this.v1(req, path);
      } else {
        throw new HttpError(404, 'not_found', `no route ${path}; see /openapi.json`);
      }
      status = 200;
      sendJson(res, 200, body);
    } catch (error) {
      const failure =
        error instanceof HttpError || error instanceof ChatRequestError
          ? error
          : new HttpError(500, 'internal', error instanceof Error ? error.message : String(error));
      status = failure.status;
      if (failure.code === 'not_ready') sendJson(res, 503, JSON.parse(failure.message));
      // OpenAI's error shape: `code`, `message`, a `type`, and the parameter at fault where there is one.
      else
        sendJson(res, failure.status, {
          error: {
            code: failure.code,
            message: failure.message,
            type: failure.status >= 500 ? 'server_error' : 'invalid_request_error',
            param: failure instanceof ChatRequestError ? failure.param : null,
          },
        });
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.counter('pipewright_http_requests_total', 'HTTP requests by route and status.', {
        route,
        code: String(status),
      });
      this.metrics.observe(
        'pipewright_http_request_duration_seconds',
        'Request latency.',
        LATENCY_BUCKETS,
        { route },
        seconds,
      );
    }
  }

  private async v1(req: IncomingMessage, path: string): Promise<unknown> {
    if (path === '/v1/models') {
      requireMethod(req, 'GET');
      const models = [...this.options.models.values()];
      return {
        models: models.map((m) => this.describe(m)),
        // OpenAI's list of models, for its clients: the chat models being served.
        object: 'list',
        data: models
          .filter((m) => m.chat)
          .map((m) => ({ id: m.name, object: 'model', created: 0, owned_by: 'pipewright' })),
      };
    }
    const match = /^\/v1\/models\/([^/:]+)(:predict)?$/.exec(path);
    if (!match) throw new HttpError(404, 'not_found', `no route ${path}; see /openapi.json`);
    const name = decodedName(match[1]!);
    const model = this.options.models.get(name);
    if (!model)
      throw new HttpError(
        404,
        'unknown_model',
        `no model "${name}" is served; served: ${[...this.options.models.keys()].join(', ')}`,
      );
    if (!match[2]) {
      requireMethod(req, 'GET');
      const version =
        model.version === undefined ? undefined : await this.options.registry.version(model.name, model.version);
      return { ...this.describe(model), ...(version && { metrics: version.metrics, lineage: version.lineage }) };
    }
    requireMethod(req, 'POST');
    if (model.version === undefined)
      throw new HttpError(503, 'model_not_loaded', `model "${model.name}" has no deployed version loaded yet`);
    const { instances, topK } = this.parsePredict(
      await readBody(req, this.options.limits.maxBodyBytes),
      model.instanceFields,
    );
    const answer = await model.predict(instances, topK).catch((error: unknown) => {
      if (error instanceof InvalidInstanceError) throw new HttpError(400, 'invalid_instance', error.message);
      throw error;
    });
    this.metrics.observe(
      'pipewright_batch_instances',
      'Instances per predict request.',
      BATCH_BUCKETS,
      { model: model.name },
      instances.length,
    );
    return { model: model.name, version: answer.version, predictions: answer.predictions };
  }

  /**
   * GET /v1/models/{name}/report or /v1/models/{name}/versions/{n}/report: the HTML report of the
   * run that made the served (or the given) version.
   */
  private async runReport(path: string): Promise<Buffer> {
    const [, escaped, number] = REPORT_ROUTE.exec(path)!;
    const name = decodedName(escaped!);
    const served = this.options.models.get(name)?.version;
    const wanted = number === undefined ? served : Number(number);
    if (wanted === undefined)
      throw new HttpError(
        404,
        'unknown_model',
        `no version of "${name}" is served here; ask for /v1/models/${escaped}/versions/<n>/report`,
      );
    const version = await this.options.registry.version(name, wanted).catch(() => undefined);
    if (!version) throw new HttpError(404, 'unknown_version', `model "${name}" has no version ${wanted}`);
    const { workflowId } = version.lineage;
    const ref = await recordedRunReport(this.options.runs, workflowId);
    if (!ref)
      throw new HttpError(
        404,
        'no_report',
        `run ${workflowId}, which made ${name} version ${wanted}, has no HTML report here (\`pipewright report ${workflowId} --html\` makes one)`,
      );
    return this.options.store.read(ref);
  }

  /** POST /v1/chat/completions: OpenAI's request and response shapes, streamed as server-sent events on request. */
  private async chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let served: ServedModel | undefined;
    const request = parseChatRequest(await readBody(req, this.options.limits.maxBodyBytes), (name) => {
      served = this.options.models.get(name);
      if (served?.chat) return served.chat;
      const chats = [...this.options.models.values()].filter((m) => m.chat).map((m) => m.name);
      throw new ChatRequestError(
        404,
        'model_not_found',
        `no chat model "${name}" is served; chat models: ${chats.join(', ') || 'none'}`,
        'model',
      );
    });
    await completeChat(request, served!.chats, res);
  }

  /**
   * The body's instances, each with the model's text fields: for one field a string or an object
   * holding it (`"text"` or `{"text": "..."}`), for several an object with all of them.
   */
  private parsePredict(raw: string, fields: readonly string[]): { instances: Instance[]; topK: number } {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (error) {
      throw new HttpError(400, 'malformed_json', `the body is not JSON: ${(error as Error).message}`);
    }
    const { limits } = this.options;
    const single = fields.length === 1;
    const shape = single ? `a string or {"${fields[0]}": "..."}` : `{${fields.map((f) => `"${f}": "..."`).join(', ')}}`;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpError(
        400,
        'invalid_request',
        `the body must be an object like {"instances": [${single ? '"some text"' : shape}]}`,
      );
    const { instances, top_k: topK = 3 } = body as { instances?: unknown; top_k?: unknown };
    if (!Array.isArray(instances))
      throw new HttpError(400, 'invalid_request', `"instances" must be an array of ${single ? 'texts' : shape}`);
    if (instances.length === 0) throw new HttpError(400, 'invalid_request', '"instances" is empty');
    if (instances.length > limits.maxInstances)
      throw new HttpError(
        413,
        'too_many_instances',
        `${instances.length} instances; at most ${limits.maxInstances} per request`,
      );
    if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > limits.maxTopK)
      throw new HttpError(400, 'invalid_request', `"top_k" must be an integer from 1 to ${limits.maxTopK}`);
    const parsed = (instances as unknown[]).map((instance, i): Instance => {
      const object =
        typeof instance === 'object' && instance !== null && !Array.isArray(instance)
          ? (instance as Record<string, unknown>)
          : undefined;
      return Object.fromEntries(
        fields.map((field) => {
          const value = object ? object[field] : single ? instance : undefined;
          const where = single ? `instances[${i}]` : `instances[${i}].${field}`;
          if (typeof value !== 'string')
            throw new HttpError(400, 'invalid_instance', `instances[${i}] must be ${shape}`);
          if (value.trim() === '') throw new HttpError(400, 'invalid_instance', `${where} is empty`);
          if (value.length > limits.maxTextChars)
            throw new HttpError(
              413,
              'text_too_long',
              `${where} has ${value.length} characters; at most ${limits.maxTextChars}`,
            );
          return [field, value];
        }),
      );
    });
    return { instances: parsed, topK };
  }

  private authorize(req: IncomingMessage): void {
    const { token } = this.options;
    if (token === undefined) return;
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    // Digests have one length, so the comparison takes the same time whatever was sent.
    const digest = (text: string) => createHash('sha256').update(text).digest();
    if (!timingSafeEqual(digest(given), digest(token)))
      throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <token>');
  }

  private describe(model: ServedModel) {
    return {
      name: model.name,
      version: model.version ?? null,
      state: model.version === undefined ? 'not_loaded' : 'serving',
      ...(model.task !== undefined && { task: model.task }),
      labels: model.labels,
      ...(model.lastError !== undefined && { error: model.lastError }),
    };
  }

  private readiness() {
    const models = Object.fromEntries([...this.options.models].map(([name, m]) => [name, m.version ?? null]));
    return { ready: Object.values(models).every((v) => v !== null), models };
  }

  private refreshGauges(): void {
    for (const model of this.options.models.values()) {
      const labels = { model: model.name };
      this.metrics.gauge('pipewright_model_version', 'The registry version being served.', labels, model.version ?? 0);
      if (!model.chat) continue;
      this.metrics.gauge(
        'pipewright_chat_replies_decoding',
        "Chat replies being decoded now (a departed client's are not).",
        labels,
        model.chats.decoding,
      );
      this.metrics.gauge(
        'pipewright_chat_replies_waiting',
        'Chat replies waiting for the running batch to end.',
        labels,
        model.chats.waiting,
      );
    }
  }
}

/** A run report's path: the served version's, or a given version's. */
const REPORT_ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d{1,9}))?\/report$/;

/** A report page loads nothing from anywhere; its own styles and zoom script are inline. */
const REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/** The route a path belongs to, as a metrics label. */
function routeOf(path: string): string {
  if (['/healthz', '/readyz', '/metrics', '/openapi.json'].includes(path)) return path.slice(1).replace('.json', '');
  if (path === '/v1/models') return 'models';
  if (path === '/v1/chat/completions') return 'chat';
  if (/^\/v1\/models\/[^/:]+:predict$/.test(path)) return 'predict';
  if (/^\/v1\/models\/[^/:]+$/.test(path)) return 'model';
  if (REPORT_ROUTE.test(path)) return 'report';
  return 'other';
}

/** A model name from the path, %-escapes decoded; a malformed escape is the client's mistake. */
function decodedName(escaped: string): string {
  try {
    return decodeURIComponent(escaped);
  } catch {
    throw new HttpError(400, 'invalid_request', `the model name ${JSON.stringify(escaped)} has a malformed %-escape`);
  }
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, 'method_not_allowed', `use ${method}`);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, 'body_too_large', `the body exceeds ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
