import { entities, entityMetrics } from '../metrics/entity-metrics';
import { tokenLogits } from '../models/encoder';
import { normalizeBert, splitBertWords } from '../tokenizers/bert-normalize';
import { IGNORED_LABEL } from '../tokenizers/task-encoding';
import { wordPieceFromFile } from '../tokenizers/tokenizer-file';
import type { Encoding, WordPieceTokenizer } from '../tokenizers/wordpiece';
import { paddedInputs, TrainingDataError } from '../train/dataset-batches';
import { predictRows, probabilities, type EncoderBatch } from './encoder-objective';
import { REPORTED_ROWS, type TaggedExample, type Task } from './task';

/** One entity found in a text: its type, the text it covers and where, and how sure the model is. */
export interface EntitySpan {
  readonly type: string;
  readonly text: string;
  /** [start, end) UTF-16 offsets into the text as sent. */
  readonly start: number;
  readonly end: number;
  /** The mean, over the entity's words, of the probability of the tag predicted for the word. */
  readonly score: number;
}

export interface EntityPrediction {
  readonly entities: readonly EntitySpan[];
}

/** A text's words as BERT's pre-tokenizer splits them, with their spans and first sub-token positions. */
interface EncodedWords {
  readonly ids: number[];
  readonly words: { readonly start: number; readonly end: number; readonly firstToken: number | undefined }[];
}

/**
 * Splits a text into words (whitespace, and every punctuation character on its own, as the
 * datasets' tokens are), encodes each into sub-tokens as training did, inside [CLS] … [SEP] and
 * the model's length. A word whose first sub-token does not fit has no position.
 */
function encodeWords(tokenizer: WordPieceTokenizer, text: string, maxLength: number): EncodedWords {
  const encoding: Encoding = { ids: [tokenizer.clsId], tokens: [], offsets: [] };
  const room = maxLength - 1;
  const words = splitBertWords(normalizeBert(text, tokenizer.config)).map((word) => {
    const first = encoding.ids.length;
    tokenizer.encodeWord(word.chars, encoding);
    return {
      start: word.chars[0]!.start,
      end: word.chars[word.chars.length - 1]!.end,
      firstToken: first < room && encoding.ids.length > first ? first : undefined,
    };
  });
  return { ids: [...encoding.ids.slice(0, room), tokenizer.sepId], words };
}

/** A token-classification batch: per-token tag ids (the loss's labels) and each token's word. */
export interface TokenBatch extends EncoderBatch {
  /** The word each token came from, -1 for special and padding tokens [size, length]. */
  readonly wordIds: Int32Array;
  /** Every word's true tag id per row, including words truncation cut off. */
  readonly wordTags: readonly (readonly number[])[];
  /** The row's words (its `tokens` column), when the dataset keeps them, for the report's examples. */
  readonly words: readonly (readonly string[] | undefined)[];
}

function intList(value: unknown, column: string, row: number, length?: number): number[] {
  if (!Array.isArray(value))
    throw new TrainingDataError(
      `row ${row} has no ${column} column: tokenize the data with task: token_classification, then pad it`,
    );
  if (length !== undefined && value.length !== length)
    throw new TrainingDataError(
      `row ${row}: ${column} has ${value.length} entries for ${length} tokens: pad the dataset after tokenizing it (pad keeps them aligned)`,
    );
  return value as number[];
}

/**
 * Named-entity recognition and slot filling: a tag per word (IOB2), predicted on each word's
 * first sub-token; the other sub-tokens, [CLS], [SEP] and padding take no part in the loss.
 * Predictions are scored per word, entity by entity (seqeval's CoNLL semantics); a word that has
 * no token left after truncation counts as predicted `O`.
 */
export const tokenClassification: Task<TokenBatch> = {
  name: 'token_classification',
  head: { name: 'token', pooled: false, logits: tokenLogits },
  classNames: (tokenizer) => tokenizer.tags ?? [],
  missingNamesHint: 'tokenize the training split with task: token_classification and its tags column',
  instanceFields: ['text'],
  columns: ['input_ids', 'attention_mask', 'tag_ids', 'word_ids', 'word_tag_ids'],

  batch(rows, classes): TokenBatch {
    const inputs = paddedInputs(rows);
    const labels = new Int32Array(inputs.size * inputs.length).fill(IGNORED_LABEL);
    const wordIds = new Int32Array(inputs.size * inputs.length).fill(-1);
    const wordTags = rows.map((row, r) => {
      const width = (row.input_ids as number[]).length;
      const tags = intList(row.tag_ids, 'tag_ids', r, width);
      tags.forEach((tag, t) => {
        if (tag !== IGNORED_LABEL && (!Number.isInteger(tag) || tag < 0 || tag >= classes))
          throw new TrainingDataError(
            `row ${r}: tag id ${tag} is not a tag of the tokenizer (0..${classes - 1}): tokenize every split with the training tokenizer`,
          );
        labels[r * inputs.length + t] = tag;
      });
      wordIds.set(intList(row.word_ids, 'word_ids', r, width), r * inputs.length);
      return intList(row.word_tag_ids, 'word_tag_ids', r);
    });
    const words = rows.map((row) =>
      Array.isArray(row.tokens) && row.tokens.every((w) => typeof w === 'string') ? row.tokens : undefined,
    );
    return { ...inputs, labels, wordIds, wordTags, words };
  },

  async evaluate(tf, model, batches, { classNames, onBatch }) {
    const actual: string[][] = [];
    const predicted: string[][] = [];
    let lossSum = 0;
    let labelled = 0;
    const tagged: TaggedExample[] = [];
    for await (const batch of batches) {
      const rows = predictRows(tf, model, batch);
      for (let r = 0; r < batch.size; r++) {
        const firstToken = new Map<number, number>();
        for (let t = batch.length - 1; t >= 0; t--) {
          const at = r * batch.length + t;
          if (batch.wordIds[at]! >= 0) firstToken.set(batch.wordIds[at]!, at);
          if (batch.labels[at]! >= 0) {
            lossSum += rows.losses[at]!;
            labelled++;
          }
        }
        const gold = batch.wordTags[r]!.map((id) => classNames[id]!);
        const guessed = gold.map((_, w) => {
          const at = firstToken.get(w);
          return at === undefined ? 'O' : classNames[rows.predicted[at]!]!;
        });
        actual.push(gold);
        predicted.push(guessed);
        const words = batch.words[r];
        if (words && tagged.length < REPORTED_ROWS && guessed.some((tag, w) => tag !== gold[w]))
          tagged.push({ words, actual: gold, predicted: guessed });
      }
      onBatch?.(actual.length);
    }
    const scores = entityMetrics(actual, predicted);
    return {
      metrics: {
        f1: scores.f1,
        precision: scores.precision,
        recall: scores.recall,
        accuracy: scores.accuracy,
        loss: labelled === 0 ? 0 : lossSum / labelled,
      },
      rows: actual.length,
      perClass: scores.perType,
      tagged,
    };
  },

  summarize: ({ rows, metrics: m }) =>
    `${rows} rows: entity F1 ${m.f1!.toFixed(4)} (precision ${m.precision!.toFixed(4)}, recall ${m.recall!.toFixed(4)}), tag accuracy ${m.accuracy!.toFixed(4)}, loss ${m.loss!.toFixed(4)}`,

  /**
   * Entities of raw texts: each word takes the tag predicted on its first sub-token (`O` when it
   * does not fit the model's length), and words become entities by the rule the metrics use.
   */
  createPredictor(tf, model, file, classNames) {
    const tokenizer = wordPieceFromFile(file, 'token_classification');
    const k = classNames.length;
    return {
      predict(requests): EntityPrediction[] {
        const encoded = requests.map((r) => encodeWords(tokenizer, r.instance.text!, model.config.maxLength));
        const probs = probabilities(
          tf,
          model,
          encoded.map((e) => e.ids),
          tokenizer.padId,
        );
        const width = Math.max(1, ...encoded.map((e) => e.ids.length));
        return requests.map((request, r) => {
          const words = encoded[r]!.words.map((word) => {
            if (word.firstToken === undefined) return { tag: 'O', score: 1 };
            const row = probs.subarray((r * width + word.firstToken) * k, (r * width + word.firstToken + 1) * k);
            let best = 0;
            for (let c = 1; c < k; c++) if (row[c]! > row[best]!) best = c;
            return { tag: classNames[best]!, score: row[best]! };
          });
          const spans = entities([words.map((w) => w.tag)]).map((e): EntitySpan => {
            const start = encoded[r]!.words[e.start]!.start;
            const end = encoded[r]!.words[e.end]!.end;
            const covered = words.slice(e.start, e.end + 1);
            return {
              type: e.type,
              text: request.instance.text!.slice(start, end),
              start,
              end,
              score: covered.reduce((sum, w) => sum + w.score, 0) / covered.length,
            };
          });
          return { entities: spans };
        });
      },
      describe({ text }, prediction) {
        const { entities: found } = prediction as EntityPrediction;
        const list = found.map(
          (e) => `${e.type} ${JSON.stringify(e.text)} [${e.start}, ${e.end}) ${e.score.toFixed(3)}`,
        );
        return `${JSON.stringify(text)}  ${list.length ? list.join('  ') : 'no entities'}`;
      },
    };
  },
};
