import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ChatModel } from '../../ml/tasks/task';
import { UserError } from '../user-error';
import { loadVersion, positiveInteger } from './serve';

interface ChatOptions {
  readonly version?: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly maxTokens?: number;
}

function number(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new UserError(`${name} must be a number from ${min} to ${max}`, 2);
    return n;
  };
}

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description(
      'Chat in the terminal with the deployed version of a seq2seq model: replies stream as they are generated; /reset forgets the conversation, /exit (or end of input) ends it',
    )
    .argument('<name>', 'model name')
    .option('--version <n>', 'a registered version instead of the deployed one', positiveInteger('--version'))
    .option('--temperature <t>', 'sampling temperature, 0 for greedy', number('--temperature', 0, 2), 0.7)
    .option(
      '--top-p <p>',
      'nucleus sampling: the most likely tokens holding this share',
      number('--top-p', 0.01, 1),
      0.9,
    )
    .option(
      '--seed <n>',
      'seeds the sampling: the same seed and messages, the same replies',
      positiveInteger('--seed'),
      0,
    )
    .option('--max-tokens <n>', "the longest reply (default: the checkpoint's)", positiveInteger('--max-tokens'))
    .action(async (name: string, options: ChatOptions) => {
      const { served, version } = await loadVersion(name, options.version);
      try {
        const chat = served.chat;
        if (!chat) throw new UserError(`model "${name}" is a ${served.task} model; chat needs a seq2seq model`, 2);
        const interactive = process.stdin.isTTY === true;
        process.stdout.write(`${name} version ${version.version}: /reset forgets the conversation, /exit ends it\n`);
        await converse(chat, options, interactive);
      } finally {
        served.dispose();
      }
    });
}

/** Reads the user's lines and answers each, streaming the reply; the conversation so far is the model's source. */
async function converse(chat: ChatModel, options: ChatOptions, interactive: boolean): Promise<void> {
  const lines = createInterface({ input: process.stdin, terminal: interactive });
  const prompt = () => interactive && process.stdout.write('you> ');
  let turns: string[] = [];
  prompt();
  for await (const line of lines) {
    const text = line.trim();
    if (text === '/exit') break;
    if (text === '/reset') {
      turns = [];
      process.stdout.write('(conversation reset)\n');
    } else if (text !== '') {
      turns.push(text);
      const reply = await streamReply(chat, turns, options);
      turns.push(reply);
    }
    prompt();
  }
  lines.close();
}

async function streamReply(chat: ChatModel, turns: readonly string[], options: ChatOptions): Promise<string> {
  let source = chat.encode(turns);
  // Too long for the model: its latest tokens are what it reads.
  if (source.length > chat.contextTokens) source = source.slice(-chat.contextTokens);
  const replies = chat.replies([
    {
      source,
      sampling: { temperature: options.temperature, topP: options.topP, topK: 0, seed: options.seed + turns.length },
      maxNewTokens: Math.min(options.maxTokens ?? chat.defaultReplyTokens, chat.maxReplyTokens),
      stop: [],
    },
  ]);
  process.stdout.write('bot> ');
  while (!replies.done) {
    for (const delta of replies.step()) process.stdout.write(delta.text);
    await nextTurn();
  }
  process.stdout.write('\n');
  return replies.texts[0]!;
}
