import { generateGreedy } from '../generation/greedy';
import { decoderBlocks, encodeMemory, outputLogits } from '../models/decoder';
import type { EncoderHead } from '../models/encoder';
import { ByteLevelBpeTokenizer } from '../tokenizers/byte-level-bpe';
import { encodeSource, separatorId, sourceTurns } from '../tokenizers/seq2seq-encoding';
import { IGNORED_LABEL } from '../tokenizers/task-encoding';
import { tokenizerFromFile } from '../tokenizers/tokenizer-file';
import { keptPositions } from '../tokenizers/truncate';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { predictRows, type EncoderBatch } from './encoder-objective';
import { InvalidInstanceError, type Task } from './task';

/** A generated reply: its text and how many tokens it took. */
export interface GeneratedText {
  readonly text: string;
  readonly tokens: number;
}

/** The encoder over the source, the decoder over the shifted target, next-token logits per target position. */
const SEQ2SEQ_HEAD: EncoderHead = {
  name: 'seq2seq',
  pooled: false,
  logits(o, p, config, inputs) {
    if (!inputs.decoder) throw new TypeError('an encoder-decoder model needs the decoder inputs');
    const { rows } = decoderBlocks(o, p, config, inputs.decoder, encodeMemory(o, p, config, inputs));
    return outputLogits(o, p, config, rows);
  },
};

function intList(value: unknown, column: string, row: number): number[] {
  if (!Array.isArray(value))
    throw new TrainingDataError(
      `row ${row} has no ${column} column: tokenize the data with task: seq2seq, then pad it`,
    );
  return value as number[];
}

/** Tokens generated for a reply unless fewer positions are left. */
const MAX_NEW_TOKENS = 64;

/**
 * Sequence to sequence (a reply to a dialogue, a target text from a source): an encoder-decoder
 * transformer that learns each next target token from the source and the true target tokens
 * before it (teacher forcing); padding takes no part in the loss. Validation scores those
 * next-token predictions: loss and perplexity per target token, token accuracy. Served, it
 * generates a reply token by token with a key/value cache.
 */
export const seq2seq: Task = {
  name: 'seq2seq',
  head: SEQ2SEQ_HEAD,
  // Every token of the vocabulary is a class the decoder can produce.
  classNames: (tokenizer) => tokenizer.vocab,
  missingNamesHint: 'tokenize the data with task: seq2seq',
  instanceFields: ['text'],
  columns: ['input_ids', 'attention_mask', 'target_ids', 'target_mask'],

  batch(rows, classes): EncoderBatch {
    const inputs = paddedInputs(rows);
    let width = 0;
    const targets = rows.map((row, r) => {
      const ids = intList(row.target_ids, 'target_ids', r);
      const mask = intList(row.target_mask, 'target_mask', r);
      if (mask.length !== ids.length)
        throw new TrainingDataError(
          `row ${r}: target_mask has ${mask.length} entries for ${ids.length} target_ids: pad the dataset again`,
        );
      if (ids.length < 2) throw new TrainingDataError(`row ${r}: a target needs a start token and at least one more`);
      width = Math.max(width, ids.length);
      return { ids, mask };
    });
    const targetLength = width - 1;
    const decoderIds = new Int32Array(inputs.size * targetLength);
    const labels = new Int32Array(inputs.size * targetLength).fill(IGNORED_LABEL);
    targets.forEach(({ ids, mask }, r) => {
      for (let t = 0; t + 1 < ids.length; t++) {
        decoderIds[r * targetLength + t] = ids[t]!;
        if (mask[t + 1] !== 1) continue;
        const next = ids[t + 1]!;
        if (!Number.isInteger(next) || next < 0 || next >= classes)
          throw new TrainingDataError(
            `row ${r}: target token ${next} is not in the vocabulary (0..${classes - 1}): tokenize every split with the training tokenizer`,
          );
        labels[r * targetLength + t] = next;
      }
    });
    return { ...inputs, decoderIds, targetLength, labels };
  },

  async evaluate(tf, model, batches, _classNames, _settings, onBatch) {
    let lossSum = 0;
    let tokens = 0;
    let right = 0;
    let rows = 0;
    for await (const batch of batches) {
      const scored = predictRows(tf, model, batch);
      batch.labels.forEach((label, i) => {
        if (label < 0) return;
        tokens++;
        lossSum += scored.losses[i]!;
        if (scored.predicted[i] === label) right++;
      });
      rows += batch.size;
      onBatch?.(rows);
    }
    const loss = tokens === 0 ? 0 : lossSum / tokens;
    return {
      metrics: { perplexity: Math.exp(loss), token_accuracy: tokens === 0 ? 0 : right / tokens, loss },
      rows,
      perClass: [],
      counts: { target_tokens: tokens },
    };
  },

  summarize: ({ rows, metrics: m, counts }) =>
    `${rows} rows, ${counts?.target_tokens ?? 0} target tokens: perplexity ${m.perplexity!.toFixed(2)}, token accuracy ${m.token_accuracy!.toFixed(4)}, loss ${m.loss!.toFixed(4)}`,

  /**
   * Replies to texts: the text (or, given a list of turns, its last turns as training kept them)
   * is encoded as the source, cut from its start to the model's length, and a reply is decoded
   * greedily until the end-of-text token.
   */
  createPredictor(tf, model, file) {
    if (file.type !== 'byte_level_bpe') throw new TypeError('a seq2seq model serves with a byte_level_bpe tokenizer');
    const tokenizer = tokenizerFromFile(file);
    const bpe = new ByteLevelBpeTokenizer(file);
    const separator = separatorId(tokenizer);
    const turns = file.seq2seq?.contextTurns ?? 1;
    const maxLength = model.config.maxLength;
    const sourceOf = (text: unknown) => {
      const ids = encodeSource(tokenizer, sourceTurns(text, turns));
      return keptPositions(ids, maxLength, 'start', { end: separator }).map((i) => ids[i]!);
    };
    return {
      check({ text }) {
        try {
          sourceTurns(text, turns);
        } catch (error) {
          throw new InvalidInstanceError((error as Error).message);
        }
      },
      predict(requests): GeneratedText[] {
        const replies = generateGreedy(
          tf,
          model,
          requests.map((r) => sourceOf(r.instance.text)),
          {
            padId: tokenizer.padId,
            startId: separator,
            stopId: separator,
            maxNewTokens: Math.min(MAX_NEW_TOKENS, maxLength),
          },
        );
        return replies.map((ids) => ({ text: bpe.decode(ids).trim(), tokens: ids.length }));
      },
      describe({ text }, prediction) {
        return `${JSON.stringify(text)}  → ${JSON.stringify((prediction as GeneratedText).text)}`;
      },
    };
  },
};
