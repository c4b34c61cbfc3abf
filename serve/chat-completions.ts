import { randomBytes, randomInt } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ReplyRequest } from '../ml/generation/reply-batch';
import type { ChatModel } from '../ml/tasks/task';
import type { ChatScheduler } from './chat-scheduler';

/** A chat request the client got wrong: OpenAI's error shape names the parameter. */
export class ChatRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** What OpenAI's chat completions accept of a request, checked; the limits of the model applied. */
export interface ChatCompletionRequest {
  readonly model: string;
  readonly replies: readonly ReplyRequest[];
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly promptTokens: number;
}

const ROLES = ['system', 'user', 'assistant'] as const;
const MAX_CHOICES = 8;
const MAX_STOPS = 4;

function fail(message: string, param: string | null, code = 'invalid_request'): never {
  throw new ChatRequestError(400, code, message, param);
}

function numberIn(value: unknown, param: string, min: number, max: number, fallback: number, integer = false): number {
  if (value === undefined || value === null) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  )
    fail(`${param} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, param);
  return value;
}

/**
 * Checks a chat completions body against OpenAI's shapes and the model's limits: messages with
 * known roles and non-empty text, the last from the user; system messages are accepted and not
 * read (the model has no instructions channel). The last turns as training kept them must fit the
 * model's context.
 */
export function parseChatRequest(raw: string, chatFor: (model: string) => ChatModel): ChatCompletionRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    fail(`the body is not JSON: ${(error as Error).message}`, null, 'malformed_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    fail('the body must be an object like {"model": "...", "messages": [{"role": "user", "content": "Hi"}]}', null);
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') fail('model must name a served chat model', 'model');
  const chat = chatFor(b.model);
  if (!Array.isArray(b.messages) || b.messages.length === 0) fail('messages must be a non-empty array', 'messages');
  const turns: string[] = [];
  (b.messages as unknown[]).forEach((message, i) => {
    const m = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
    if (!(ROLES as readonly unknown[]).includes(m.role))
      fail(
        `messages[${i}].role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(m.role)}`,
        `messages[${i}].role`,
      );
    if (typeof m.content !== 'string' || m.content.trim() === '')
      fail(`messages[${i}].content must be a non-empty string`, `messages[${i}].content`);
    if (m.role !== 'system') turns.push(m.content);
  });
  const last = (b.messages as { role: string }[]).at(-1)!;
  if (last.role !== 'user') fail('the last message must be from the user: the model replies to it', 'messages');
  const source = chat.encode(turns);
  if (source.length > chat.contextTokens)
    fail(
      `the conversation's last turns take ${source.length} tokens; this model reads at most ${chat.contextTokens}: send fewer or shorter messages`,
      'messages',
      'context_length_exceeded',
    );
  const maxTokens = numberIn(
    b.max_completion_tokens ?? b.max_tokens,
    b.max_completion_tokens === undefined ? 'max_tokens' : 'max_completion_tokens',
    1,
    chat.maxReplyTokens,
    chat.defaultReplyTokens,
    true,
  );
  const temperature = numberIn(b.temperature, 'temperature', 0, 2, 1);
  const topP = numberIn(b.top_p, 'top_p', Number.MIN_VALUE, 1, 1);
  const n = numberIn(b.n, 'n', 1, MAX_CHOICES, 1, true);
  const seed = numberIn(b.seed, 'seed', -(2 ** 53), 2 ** 53, randomInt(2 ** 31), true);
  const stops = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (!Array.isArray(stops) || stops.length > MAX_STOPS || stops.some((s) => typeof s !== 'string' || s === ''))
    fail(`stop must be a string or up to ${MAX_STOPS} non-empty strings`, 'stop');
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean')
    fail('stream must be a boolean', 'stream');
  const streamOptions = b.stream_options as { include_usage?: unknown } | undefined;
  const replies = Array.from({ length: n }, (_, choice) => ({
    source,
    // Each choice draws from its own stream of the seed: the same request, the same replies.
    sampling: { temperature, topP, topK: 0, seed: (seed + choice * 0x9e3779b9) >>> 0 },
    maxNewTokens: maxTokens,
    stop: stops as string[],
  }));
  return {
    model: b.model,
    replies,
    stream: b.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    promptTokens: source.length,
  };
}

/**
 * Answers a checked request: one chat.completion object, or with `stream` server-sent events of
 * chat.completion.chunk objects (the role first, then text as it is decoded, then each choice's
 * finish reason, usage if asked) ending in `data: [DONE]`. A client that disconnects cancels its
 * replies.
 */
export async function completeChat(
  request: ChatCompletionRequest,
  scheduler: ChatScheduler,
  res: ServerResponse,
): Promise<void> {
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const head = { id, created, model: request.model };
  const texts = request.replies.map(() => '');
  const finishes: (string | null)[] = request.replies.map(() => null);
  const tokens = request.replies.map(() => 0);
  let gone = false;
  res.on('close', () => (gone = !res.writableFinished));
  const usage = () => {
    const completion = tokens.reduce((a, b) => a + b, 0);
    return {
      prompt_tokens: request.promptTokens,
      completion_tokens: completion,
      total_tokens: request.promptTokens + completion,
    };
  };
  const send = (chunk: object) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  if (request.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    request.replies.forEach((_, index) =>
      send({
        ...head,
        object: 'chat.completion.chunk',
        choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      }),
    );
  }
  const job = scheduler.submit({
    replies: request.replies,
    cancelled: () => gone,
    onDelta: (index, delta, count) => {
      texts[index] += delta.text;
      tokens[index] = count;
      if (delta.finish) finishes[index] = delta.finish;
      if (!request.stream || gone) return;
      if (delta.text !== '')
        send({
          ...head,
          object: 'chat.completion.chunk',
          choices: [{ index, delta: { content: delta.text }, logprobs: null, finish_reason: null }],
        });
      if (delta.finish)
        send({
          ...head,
          object: 'chat.completion.chunk',
          choices: [{ index, delta: {}, logprobs: null, finish_reason: delta.finish }],
        });
    },
  });
  try {
    await job;
  } catch (error) {
    if (!request.stream) throw error;
    // The stream has begun: the failure goes down it as an event, and the stream ends.
    const message = error instanceof Error ? error.message : String(error);
    send({ error: { code: 'internal', message, type: 'server_error', param: null } });
    res.end('data: [DONE]\n\n');
    return;
  }
  if (gone) return;
  if (request.stream) {
    if (request.includeUsage) send({ ...head, object: 'chat.completion.chunk', choices: [], usage: usage() });
    res.end('data: [DONE]\n\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      ...head,
      object: 'chat.completion',
      choices: texts.map((content, index) => ({
        index,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: finishes[index],
      })),
      usage: usage(),
    }),
  );
}
