import { GENERATION_DEFAULTS } from '../../core/contracts/train';
import type * as Tf from '@tensorflow/tfjs';
import { beamSearch } from '../generation/beam-search';
import { decodeAll } from '../generation/decoding-run';
import { ReplyBatch } from '../generation/reply-batch';
import { corpusBleu, corpusChrf, distinctNGrams } from '../metrics/generation-metrics';
import { decoderBlocks, encodeMemory, outputLogits } from '../models/decoder';
import type { EncoderHead } from '../models/encoder';
import type { EncoderModel } from '../models/encoder-model';
import { ByteLevelBpeTokenizer } from '../tokenizers/byte-level-bpe';
import { encodeSource, separatorId, sourceTurns } from '../tokenizers/seq2seq-encoding';
import { IGNORED_LABEL } from '../tokenizers/task-encoding';
import { BPE_SPECIALS, tokenizerFromFile } from '../tokenizers/tokenizer-file';
import { keptPositions } from '../tokenizers/truncate';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { predictRows, type EncoderBatch } from './encoder-objective';
import { InvalidInstanceError, REPORTED_ROWS, type GeneratedExample, type Task, type TaskSettings } from './task';

/** A generated reply: its text and how many tokens it took. */
export interface GeneratedText {
  readonly text: string;
  readonly tokens: number;
}

/** A seq2seq batch: the target texts besides the ids, to score generations against. */
export interface Seq2SeqBatch extends EncoderBatch {
  readonly references: readonly string[];
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

/** How replies are generated: the `generation` train settings a checkpoint keeps. */
interface GenerationSettings {
  readonly maxNewTokens: number;
  readonly minNewTokens: number;
  readonly beams: number;
  readonly lengthPenalty: number;
  readonly noRepeatNgram: number;
}

/** The `generation` settings with the defaults filled in (checkpoints from before a setting existed lack it). */
function generationSettings(settings: TaskSettings): GenerationSettings {
  const given = (settings.generation ?? {}) as Partial<Record<keyof typeof GENERATION_DEFAULTS, number>>;
  const generation = { ...GENERATION_DEFAULTS, ...given };
  return {
    maxNewTokens: generation.max_new_tokens,
    minNewTokens: generation.min_new_tokens,
    beams: generation.beams,
    lengthPenalty: generation.length_penalty,
    noRepeatNgram: generation.no_repeat_ngram,
  };
}

/** Replies to a batch of sources as `generation` says: beam search with more than one beam, else greedy. */
function generateReplies(
  tf: typeof Tf,
  model: EncoderModel,
  sources: readonly (readonly number[])[],
  ids: { padId: number; separator: number },
  generation: GenerationSettings,
): number[][] {
  const options = { padId: ids.padId, startId: ids.separator, stopId: ids.separator, ...generation };
  return generation.beams > 1 ? beamSearch(tf, model, sources, options) : decodeAll(tf, model, sources, options);
}

/** What decoding needs of a byte-level BPE vocabulary: its separator and padding ids, and the text of some ids. */
function vocabularyCodec(vocab: readonly string[]) {
  const separator = vocab.indexOf(BPE_SPECIALS.eos);
  if (separator < 0) throw new TypeError(`a seq2seq vocabulary has ${BPE_SPECIALS.eos}`);
  // Decoding maps tokens back to bytes; it needs no merges.
  const bpe = new ByteLevelBpeTokenizer({ vocab, merges: [] });
  return {
    separator,
    padId: Math.max(0, vocab.indexOf(BPE_SPECIALS.pad)),
    decode: (ids: readonly number[]) => bpe.decode(ids).trim(),
  };
}

/** Ids split at every `separator`, the separators dropped (a source's turns). */
function splitAt(ids: readonly number[], separator: number): number[][] {
  const parts: number[][] = [[]];
  for (const id of ids) {
    if (id === separator) parts.push([]);
    else parts.at(-1)!.push(id);
  }
  return parts.filter((part) => part.length > 0);
}

/** Each row's real source ids (before its first padding position). */
function unpaddedSources(batch: EncoderBatch): number[][] {
  return Array.from({ length: batch.size }, (_, r) => {
    const ids = batch.ids.subarray(r * batch.length, (r + 1) * batch.length);
    const padding = batch.mask.subarray(r * batch.length, (r + 1) * batch.length).indexOf(0);
    return Array.from(padding < 0 ? ids : ids.subarray(0, padding));
  });
}

function intList(value: unknown, column: string, row: number): number[] {
  if (!Array.isArray(value))
    throw new TrainingDataError(
      `row ${row} has no ${column} column: tokenize the data with task: seq2seq, then pad it`,
    );
  return value as number[];
}

/**
 * Sequence to sequence (a reply to a dialogue, a target text from a source): an encoder-decoder
 * transformer that learns each next target token from the source and the true target tokens
 * before it (teacher forcing); padding takes no part in the loss. Validation scores those
 * next-token predictions (loss and perplexity per target token, token accuracy) and a greedy
 * generation per row against its target (BLEU, chrF, distinct-n). Served, it generates a reply
 * token by token with a key/value cache.
 */
export const seq2seq: Task<Seq2SeqBatch> = {
  name: 'seq2seq',
  head: SEQ2SEQ_HEAD,
  // Every token of the vocabulary is a class the decoder can produce.
  classNames: (tokenizer) => tokenizer.vocab,
  missingNamesHint: 'tokenize the data with task: seq2seq',
  settingKeys: ['generation'],
  instanceFields: ['text'],
  columns: ['input_ids', 'attention_mask', 'target_ids', 'target_mask', 'target_text'],

  batch(rows, classes): Seq2SeqBatch {
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
    const references = rows.map((row) => (typeof row.target_text === 'string' ? row.target_text : ''));
    return { ...inputs, decoderIds, targetLength, labels, references };
  },

  async evaluate(tf, model, batches, { classNames, settings, onBatch }) {
    const codec = vocabularyCodec(classNames);
    const generation = generationSettings(settings);
    let lossSum = 0;
    let tokens = 0;
    let right = 0;
    const generated: string[] = [];
    const references: string[] = [];
    const examples: GeneratedExample[] = [];
    for await (const batch of batches) {
      const scored = predictRows(tf, model, batch);
      batch.labels.forEach((label, i) => {
        if (label < 0) return;
        tokens++;
        lossSum += scored.losses[i]!;
        if (scored.predicted[i] === label) right++;
      });
      const sources = unpaddedSources(batch);
      const replies = generateReplies(tf, model, sources, codec, generation).map(codec.decode);
      replies.slice(0, REPORTED_ROWS - examples.length).forEach((reply, r) =>
        examples.push({
          source: splitAt(sources[r]!, codec.separator).map(codec.decode),
          target: batch.references[r]!,
          generated: reply,
        }),
      );
      generated.push(...replies);
      references.push(...batch.references);
      onBatch?.(generated.length);
    }
    const loss = tokens === 0 ? 0 : lossSum / tokens;
    return {
      metrics: {
        perplexity: Math.exp(loss),
        token_accuracy: tokens === 0 ? 0 : right / tokens,
        loss,
        bleu: corpusBleu(generated, references).score,
        chrf: corpusChrf(generated, references),
        distinct_1: distinctNGrams(generated, 1),
        distinct_2: distinctNGrams(generated, 2),
      },
      rows: generated.length,
      perClass: [],
      counts: { target_tokens: tokens },
      examples,
    };
  },

  summarize: ({ rows, metrics: m, counts }) =>
    `${rows} rows, ${counts?.target_tokens ?? 0} target tokens: perplexity ${m.perplexity!.toFixed(2)}, token accuracy ${m.token_accuracy!.toFixed(4)}, loss ${m.loss!.toFixed(4)}; generated: BLEU ${m.bleu!.toFixed(2)}, chrF ${m.chrf!.toFixed(2)}, distinct-1/2 ${m.distinct_1!.toFixed(3)}/${m.distinct_2!.toFixed(3)}`,

  /**
   * Replies to texts: the text (or, given a list of turns, its last turns as training kept them)
   * is encoded as the source, cut from its start to the model's length, and a reply is decoded
   * (greedily, or by beam search with `generation.beams` above 1) until the end-of-text token or
   * `generation.max_new_tokens`. Chat replies decode greedily or sample, as each request asks,
   * under the same `no_repeat_ngram` and `min_new_tokens`.
   */
  createPredictor(tf, model, file, _classNames, settings) {
    if (file.type !== 'byte_level_bpe') throw new TypeError('a seq2seq model serves with a byte_level_bpe tokenizer');
    const tokenizer = tokenizerFromFile(file);
    const codec = vocabularyCodec(file.vocab);
    const separator = separatorId(tokenizer);
    const generation = generationSettings(settings);
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
        const sources = requests.map((r) => sourceOf(r.instance.text));
        const replies = generateReplies(tf, model, sources, { padId: tokenizer.padId, separator }, generation);
        return replies.map((ids) => ({ text: codec.decode(ids), tokens: ids.length }));
      },
      describe({ text }, prediction) {
        return `${JSON.stringify(text)}  → ${JSON.stringify((prediction as GeneratedText).text)}`;
      },
      chat: {
        contextTokens: maxLength,
        maxReplyTokens: maxLength,
        defaultReplyTokens: generation.maxNewTokens,
        encode: (messages) => encodeSource(tokenizer, sourceTurns([...messages], turns)),
        replies: (requests) =>
          new ReplyBatch(
            tf,
            model,
            requests,
            {
              padId: tokenizer.padId,
              startId: separator,
              stopId: separator,
              minNewTokens: generation.minNewTokens,
              noRepeatNgram: generation.noRepeatNgram,
            },
            codec.decode,
          ),
      },
    };
  },
};
