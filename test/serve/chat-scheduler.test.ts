import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { ReplyBatch, type ReplyRequest } from '../../ml/generation/reply-batch';
import { GREEDY } from '../../ml/generation/sampling';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { EncoderModel } from '../../ml/models/encoder-model';
import type { ChatModel } from '../../ml/tasks/task';
import { seq2seq } from '../../ml/tasks/seq2seq';
import { ChatScheduler, REPLIES_PER_BATCH } from '../../serve/chat-scheduler';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
});

const CONFIG: EncoderConfig = {
  vocabSize: 30,
  maxLength: 400,
  layers: 1,
  hidden: 16,
  heads: 2,
  ffn: 32,
  dropout: 0,
  activation: 'gelu',
  positional: 'sinusoidal',
  pooling: 'first',
  classes: 30,
  decoderLayers: 1,
  tiedOutput: true,
};

/** A chat model over a small random-weight decoder whose replies never stop early: each ends at its token limit. */
function chatModel(model: EncoderModel): ChatModel {
  return {
    contextTokens: CONFIG.maxLength,
    maxReplyTokens: CONFIG.maxLength,
    defaultReplyTokens: 10,
    encode: (turns) => turns.map((t) => 2 + (t.length % 20)),
    replies: (requests) =>
      new ReplyBatch(tf, model, requests, { padId: 0, startId: 1, stopId: 1, minNewTokens: CONFIG.maxLength }, (ids) =>
        ids.map((id) => String.fromCharCode(97 + (id % 26))).join(''),
      ),
  };
}

const reply = (maxNewTokens: number): ReplyRequest => ({ source: [3, 4, 5], sampling: GREEDY, maxNewTokens, stop: [] });

test('a cancelled chat stops being decoded at once: the gauge of decoding replies drops, the others finish', async () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 2);
  const scheduler = new ChatScheduler(() => ({ chat: chatModel(model), version: 3 }), { maxBatch: 8, maxWaitMs: 1 });
  try {
    let gone = false;
    let deltasAfterLeaving = 0;
    const seen: number[] = [];
    const leaving = scheduler.submit({
      replies: [reply(300), reply(300)],
      onDelta: () => {
        if (gone) deltasAfterLeaving++;
      },
      cancelled: () => gone,
    });
    let finishedTokens = 0;
    const staying = scheduler.submit({
      replies: [reply(40)],
      onDelta: (_choice, delta, tokens) => {
        seen.push(scheduler.decoding);
        if (delta.finish) finishedTokens = tokens;
        if (tokens === 5) gone = true;
      },
      cancelled: () => false,
    });
    assert.equal(scheduler.waiting, 3, 'three replies wait for the batch');
    assert.equal(await staying, 3, 'the version that replied');
    assert.equal(await leaving, 3);
    assert.equal(finishedTokens, 40, 'the staying reply ran to its limit');
    assert.equal(seen[0], 3, 'all three replies decode in one batch');
    assert.equal(seen.at(-1), 1, 'once its client left, only the staying reply is decoded');
    assert.ok(deltasAfterLeaving <= 2, `the departed client's replies got ${deltasAfterLeaving} deltas after it left`);
    assert.equal(scheduler.decoding, 0, 'nothing is left decoding');
    assert.equal(scheduler.waiting, 0);
  } finally {
    model.dispose();
  }
});

test('a chat that finds the model idle after a lone one starts at once; after a batch of several it waits for company', async () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 2);
  const scheduler = new ChatScheduler(() => ({ chat: chatModel(model), version: 3 }), {
    maxBatch: 8,
    maxWaitMs: 2_000,
  });
  const job = () => ({ replies: [reply(2)], onDelta: () => undefined, cancelled: () => false });
  const timed = async (jobs: number) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: jobs }, () => scheduler.submit(job())));
    return performance.now() - started;
  };
  // The first batch has no batch before it: a lone request then goes at once.
  assert.ok((await timed(1)) < 1_000, 'a lone request on a fresh scheduler');
  await timed(2); // a batch of two
  const afterPair = await timed(1);
  assert.ok(afterPair >= 1_900, `waited ${afterPair.toFixed(0)} ms for company after a batch of two`);
  const afterLone = await timed(1);
  assert.ok(afterLone < 1_000, `waited ${afterLone.toFixed(0)} ms after a lone request`);
});

test('a chat arriving while a batch decodes joins it at the next step, replies as it would alone, and ends before the batch does; after a model swap it waits', async () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 2);
  const other = new EncoderModel(tf, CONFIG, seq2seq.head, 5);
  let version = 3;
  const scheduler = new ChatScheduler(() => ({ chat: chatModel(version === 3 ? model : other), version }), {
    maxBatch: 8,
    maxWaitMs: 1,
  });
  const late: ReplyRequest = { source: [7, 8, 9, 10, 11], sampling: GREEDY, maxNewTokens: 12, stop: [] };
  try {
    const alone = chatModel(model).replies([late]);
    while (!alone.done) alone.step();
    let longTokens = 0;
    let lateSubmitted: Promise<number> | undefined;
    let lateText = '';
    let longTokensWhenLateEnded = -1;
    const long = scheduler.submit({
      replies: [reply(200)],
      onDelta: (_choice, _delta, tokens) => {
        longTokens = tokens;
        if (tokens !== 5) return;
        lateSubmitted = scheduler.submit({
          replies: [late],
          onDelta: (_c, delta) => {
            lateText += delta.text;
            if (delta.finish) longTokensWhenLateEnded = longTokens;
          },
          cancelled: () => false,
        });
        assert.equal(scheduler.waiting, 1, 'the late chat waits for the next step');
      },
      cancelled: () => false,
    });
    while (!lateSubmitted) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await lateSubmitted, 3, 'the late chat was answered by the running version');
    assert.equal(lateText, alone.texts[0], 'the late chat got the reply it gets decoded alone');
    assert.ok(
      longTokensWhenLateEnded > 5 && longTokensWhenLateEnded <= 5 + 12 + 1,
      `the late chat ended when the long one had ${longTokensWhenLateEnded} tokens`,
    );
    assert.ok(longTokens < 200, 'the long chat was still decoding when the late one was answered');
    // A chat arriving after the served version changed waits for the old version's batch to end.
    let swapped: Promise<number> | undefined;
    const second = scheduler.submit({
      replies: [reply(60)],
      onDelta: (_choice, _delta, tokens) => {
        if (tokens !== 3 || swapped) return;
        version = 4;
        swapped = scheduler.submit({ replies: [reply(4)], onDelta: () => undefined, cancelled: () => false });
      },
      cancelled: () => false,
    });
    assert.equal(await long, 3);
    assert.equal(await second, 3, 'the chat submitted before the swap');
    assert.equal(await swapped, 4, 'the chat submitted after the swap is answered by the new version');
    assert.equal(scheduler.decoding, 0);
  } finally {
    model.dispose();
    other.dispose();
  }
});

test('under steady load a batch takes at most REPLIES_PER_BATCH replies in all; the requests after them start the next batch', async () => {
  const model = new EncoderModel(tf, CONFIG, seq2seq.head, 2);
  const inner = chatModel(model);
  // Replies each batch took: those it started with and those that joined it.
  const taken: number[] = [];
  const counted: ChatModel = {
    ...inner,
    replies: (requests) => {
      const batch = inner.replies(requests);
      const index = taken.push(requests.length) - 1;
      const join = batch.join.bind(batch);
      batch.join = (joining) => {
        taken[index]! += joining.length;
        join(joining);
      };
      return batch;
    },
  };
  const scheduler = new ChatScheduler(() => ({ chat: counted, version: 1 }), { maxBatch: 16, maxWaitMs: 1 });
  try {
    // Two long replies keep the first batch running while requests of three one-token replies join
    // it; a batch never splits a request, so the cap falls between requests.
    const long = scheduler.submit({
      replies: [reply(300), reply(300)],
      onDelta: () => undefined,
      cancelled: () => false,
    });
    const requests = Math.ceil(REPLIES_PER_BATCH / 3) + 10;
    const answered = await Promise.all(
      Array.from({ length: requests }, () =>
        scheduler.submit({ replies: [reply(1), reply(1), reply(1)], onDelta: () => undefined, cancelled: () => false }),
      ),
    );
    await long;
    assert.equal(answered.length, requests);
    assert.equal(
      taken[0],
      2 + 3 * Math.floor((REPLIES_PER_BATCH - 2) / 3),
      'the first batch took every request that fitted under the cap',
    );
    assert.equal(
      taken.reduce((a, b) => a + b, 0),
      2 + requests * 3,
      'the later requests were decoded in the next batches',
    );
    assert.ok(taken.length >= 2);
    assert.equal(scheduler.waiting, 0);
  } finally {
    model.dispose();
  }
});
