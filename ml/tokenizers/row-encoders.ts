import type { Column, Row } from '../../store/arrow-io';
import { encodeQuestionContext, encodeTaggedWords } from './task-encoding';
import { encodeSource, encodeTarget, separatorId, sourceTurns } from './seq2seq-encoding';
import type { TextTokenizer } from './text-tokenizer';
import { tokenizerFromFile, wordPieceFromFile, type TokenizerFile } from './tokenizer-file';

import { TOKENIZE_TASKS } from '../../core/contracts/tokenize';
import { failureClass } from '../../core/failures';

export type TokenizeTask = (typeof TOKENIZE_TASKS)[number];

/** The `tokenize` settings that decide how rows become model inputs. */
export interface TaskColumns {
  readonly task: TokenizeTask;
  readonly text_column: string;
  readonly label_column: string;
  readonly out_of_scope_label?: string;
  readonly tokens_column: string;
  readonly tags_column: string;
  readonly question_column: string;
  readonly context_column: string;
  readonly answers_column: string;
  readonly source_column: string;
  readonly target_column: string;
  readonly context_turns: number;
  readonly add_special_tokens: boolean;
  readonly max_length: number;
  readonly stride: number;
}

/** The label_id of a row whose label is tokenize's `out_of_scope_label`: none of the model's classes. */
export const OUT_OF_SCOPE_ID = -1;

/** A row that cannot be encoded; the message names the row. */
export class RowEncodingError extends failureClass('RowEncodingError') {}

/** The columns a task reads from its input; each must exist. */
export function requiredColumns(options: TaskColumns): string[] {
  switch (options.task) {
    case 'classification':
      return [options.text_column];
    case 'token_classification':
      return [options.tokens_column, options.tags_column];
    case 'question_answering':
      return [options.question_column, options.context_column];
    case 'seq2seq':
      return [options.source_column, options.target_column];
  }
}

/** The texts of a row that vocabulary training should see. */
export function vocabularyTexts(row: Row, options: TaskColumns): string[] {
  switch (options.task) {
    case 'classification':
      return [textOf(row[options.text_column])];
    case 'token_classification':
      return [((row[options.tokens_column] as string[] | null) ?? []).join(' ')];
    case 'question_answering':
      return [textOf(row[options.question_column]), textOf(row[options.context_column])];
    case 'seq2seq': {
      const source: unknown = row[options.source_column];
      const turns: unknown[] = Array.isArray(source) ? source.slice(-options.context_turns) : [source];
      return [...turns, row[options.target_column]].map(textOf);
    }
  }
}

/** Names to number from a row: class labels or word tags. */
export function rowNames(row: Row, options: TaskColumns, hasLabels: boolean): string[] {
  if (options.task === 'token_classification') return (row[options.tags_column] as string[] | null) ?? [];
  if (options.task === 'classification' && hasLabels && row[options.label_column] !== null) {
    const label = textOf(row[options.label_column]);
    return label === options.out_of_scope_label ? [] : [label];
  }
  return [];
}

export interface RowEncoder {
  readonly columns: Column[];
  /** One or more output rows (QA yields one per context window). */
  encode(row: Row, rowNumber: number): Row[];
  readonly unknownTokens: () => number;
}

/** How rows of a task become model inputs, and the columns they gain. */
export function rowEncoder(
  file: TokenizerFile,
  names: readonly string[],
  inputColumns: readonly Column[],
  options: TaskColumns,
  hasLabels: boolean,
): RowEncoder {
  const ids = new Map(names.map((name, id) => [name, id]));
  let unknown = 0;
  const unkId = tokenizerFromFile(file).unkId;
  const countUnknown = (list: readonly number[]) => {
    for (const id of list) if (id === unkId) unknown++;
  };
  const wordPiece = () => {
    try {
      return wordPieceFromFile(file, options.task);
    } catch (error) {
      throw new RowEncodingError((error as Error).message);
    }
  };
  const idOf = (name: string, rowNumber: number, what: string) => {
    const id = ids.get(name);
    if (id === undefined) {
      throw new RowEncodingError(
        `row ${rowNumber}: ${what} "${name}" is not among the tokenizer's ${what}s (${[...ids.keys()].join(', ')}); was the tokenizer built on another dataset, or does the training split never show this ${what}?${what === 'label' ? ' For rows of none of the classes, set out_of_scope_label.' : ''}`,
      );
    }
    return id;
  };
  const unknownTokens = () => unknown;
  switch (options.task) {
    case 'classification': {
      const tokenizer = tokenizerFromFile(file);
      return {
        columns: [
          ...inputColumns,
          ...int32Lists('input_ids', 'token_start', 'token_end'),
          ...(hasLabels ? [{ name: 'label_id', type: 'int32' as const }] : []),
        ],
        encode: (row, rowNumber) => {
          const text = textOf(row[options.text_column]);
          const e = options.add_special_tokens ? tokenizer.encodeWithSpecialTokens(text) : tokenizer.encode(text);
          countUnknown(e.ids);
          const out: Row = {
            ...row,
            input_ids: e.ids,
            token_start: e.offsets.map((o) => o[0]),
            token_end: e.offsets.map((o) => o[1]),
          };
          if (hasLabels) {
            const label = textOf(row[options.label_column]);
            out.label_id = label === options.out_of_scope_label ? OUT_OF_SCOPE_ID : idOf(label, rowNumber, 'label');
          }
          return [out];
        },
        unknownTokens,
      };
    }
    case 'token_classification': {
      const tokenizer = wordPiece();
      return {
        columns: [
          ...inputColumns,
          ...int32Lists('input_ids', 'token_start', 'token_end', 'word_ids', 'tag_ids', 'word_tag_ids'),
        ],
        encode: (row, rowNumber) => {
          const words = (row[options.tokens_column] as string[] | null) ?? [];
          const tags = (row[options.tags_column] as string[] | null) ?? [];
          if (words.length !== tags.length)
            throw new RowEncodingError(`row ${rowNumber}: ${words.length} tokens but ${tags.length} tags`);
          const tagIds = tags.map((tag) => idOf(tag, rowNumber, 'tag'));
          const e = encodeTaggedWords(tokenizer, words, tagIds);
          countUnknown(e.ids);
          return [
            {
              ...row,
              input_ids: e.ids,
              token_start: e.offsets.map((o) => o[0]),
              token_end: e.offsets.map((o) => o[1]),
              word_ids: e.wordIds,
              tag_ids: e.tagIds,
              // Every word's tag, so scoring sees the words that have no token or lose theirs to truncation.
              word_tag_ids: tagIds,
            },
          ];
        },
        unknownTokens,
      };
    }
    case 'seq2seq': {
      const tokenizer = tokenizerFromFile(file);
      separatorOrError(tokenizer);
      return {
        // The target as encoded travels with its ids: generations are scored against it.
        columns: [...inputColumns, ...int32Lists('input_ids', 'target_ids'), { name: 'target_text', type: 'utf8' }],
        encode: (row, rowNumber) => {
          try {
            const input_ids = encodeSource(tokenizer, sourceTurns(row[options.source_column], options.context_turns));
            const target_text = textOf(row[options.target_column]).trim();
            const target_ids = encodeTarget(tokenizer, target_text);
            countUnknown(input_ids);
            countUnknown(target_ids);
            return [{ ...row, input_ids, target_ids, target_text }];
          } catch (error) {
            throw new RowEncodingError(`row ${rowNumber}: ${(error as Error).message}`);
          }
        },
        unknownTokens,
      };
    }
    case 'question_answering': {
      const tokenizer = wordPiece();
      const added: Column[] = [
        { name: 'example', type: 'int32' },
        ...int32Lists('input_ids', 'token_type_ids', 'context_start', 'context_end'),
        { name: 'start_position', type: 'int32' },
        { name: 'end_position', type: 'int32' },
        // The context and every gold answer travel with each window: scoring maps spans back to text.
        { name: 'context', type: 'utf8' },
        { name: 'answers', type: 'json' },
      ];
      // Every other column of the question (its id, title, a task or domain) goes with each of its windows.
      const replaced = new Set([
        options.question_column,
        options.context_column,
        options.answers_column,
        ...added.map((c) => c.name),
      ]);
      const keep = inputColumns.filter((c) => !replaced.has(c.name));
      return {
        columns: [...keep, ...added],
        encode: (row, rowNumber) => {
          const context = textOf(row[options.context_column]);
          if (context.trim() === '') throw new RowEncodingError(`row ${rowNumber}: the context is empty`);
          const answers = goldAnswers(row[options.answers_column], context, rowNumber, options.answers_column);
          const answer = answers[0];
          let windows;
          try {
            windows = encodeQuestionContext(tokenizer, textOf(row[options.question_column]), context, answer, {
              maxLength: options.max_length,
              stride: options.stride,
            });
          } catch (error) {
            throw new RowEncodingError(`row ${rowNumber}: ${(error as Error).message}`);
          }
          return windows.map((w) => {
            countUnknown(w.inputIds);
            return {
              ...Object.fromEntries(keep.map((c) => [c.name, row[c.name]])),
              example: rowNumber,
              input_ids: w.inputIds,
              token_type_ids: w.tokenTypeIds,
              context_start: w.contextOffsets.map((o) => o[0]),
              context_end: w.contextOffsets.map((o) => o[1]),
              start_position: w.startPosition,
              end_position: w.endPosition,
              context,
              answers: { text: answers.map((a) => a.text), answer_start: answers.map((a) => a.start) },
            };
          });
        },
        unknownTokens,
      };
    }
  }
}

/**
 * A row's gold answers in SQuAD's shape ({text: [...], answer_start: [...]}); each must be found
 * in the context at its offset. Offsets count Unicode code points, as Python (which writes the
 * SQuAD files) does; they come back as UTF-16 offsets, as JavaScript strings count. No answers
 * column, or an empty one: none (unlabelled questions).
 */
function goldAnswers(
  value: unknown,
  context: string,
  rowNumber: number,
  column: string,
): { text: string; start: number }[] {
  if (value === null || value === undefined) return [];
  const { text, answer_start: starts } = value as { text?: unknown; answer_start?: unknown };
  if (!Array.isArray(text) || !Array.isArray(starts) || text.length !== starts.length)
    throw new RowEncodingError(
      `row ${rowNumber}: ${column} must be {"text": [...], "answer_start": [...]} with one start per text, not ${JSON.stringify(value).slice(0, 120)}`,
    );
  return (text as unknown[]).map((answer, i) => {
    const start: unknown = starts[i];
    if (typeof answer !== 'string' || answer === '' || !Number.isInteger(start))
      throw new RowEncodingError(`row ${rowNumber}: answer ${i + 1} needs a non-empty text and an integer start`);
    const at = utf16Offset(context, start as number);
    const found = context.slice(at, at + answer.length);
    if (found !== answer)
      throw new RowEncodingError(
        `row ${rowNumber}: answer ${i + 1} ${JSON.stringify(answer)} is not at offset ${String(start)} of the context (there: ${JSON.stringify(found)}; offsets count code points); fix answer_start, or clean the rows first: clean quarantines such rows with their reason`,
      );
    return { text: answer, start: at };
  });
}

/** The UTF-16 offset of code point `codePoints` of a text (characters beyond U+FFFF take two units). */
function utf16Offset(text: string, codePoints: number): number {
  let at = 0;
  for (let seen = 0; seen < codePoints && at < text.length; seen++) {
    const unit = text.charCodeAt(at);
    at += unit >= 0xd800 && unit <= 0xdbff && at + 1 < text.length ? 2 : 1;
  }
  return codePoints > at && at >= text.length ? codePoints : at;
}

/** The tokenizer's separator, or the reason it has none as a RowEncodingError. */
function separatorOrError(tokenizer: TextTokenizer): number {
  try {
    return separatorId(tokenizer);
  } catch (error) {
    throw new RowEncodingError((error as Error).message);
  }
}

function int32Lists(...names: string[]): Column[] {
  return names.map((name) => ({ name, type: 'list<int32>' }));
}

/**
 * A cell as text: strings as they are, numbers and booleans written out, empty for null. A list or
 * an object is no text: the step fails naming it (a `clean` step quarantines such rows instead).
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new RowEncodingError(
    `${JSON.stringify(value).slice(0, 80)} is ${Array.isArray(value) ? 'a list' : 'an object'}, not text: put a clean step before tokenize, which quarantines such rows`,
  );
}
