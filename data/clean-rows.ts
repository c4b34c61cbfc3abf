import { createHash } from 'node:crypto';
import { FingerprintSet } from './fingerprint-set';
import type { Row } from '../store/arrow-io';
import { moveAnswers } from './clean-answers';
import { cleanText, type TextCleaning } from './clean-text';

/** The `clean` activity's settings after defaults are applied. */
export interface RowCleaning extends TextCleaning {
  readonly text_column: string;
  readonly label_column: string;
  readonly answers_column: string;
  readonly question_column: string;
  readonly drop_empty: boolean;
  readonly dedupe: boolean;
  readonly min_length: number;
  readonly max_length?: number;
  readonly labels?: readonly string[];
  readonly max_bad_fraction: number;
}

/** A kept row, with how many of its answers cleaning moved (question answering). */
export type RowVerdict = { keep: Row; movedAnswers?: number } | { quarantine: string } | { duplicate: true };

/** Which optional columns the dataset has: a label, or SQuAD-style answers (with a question) to keep in step. */
export interface PresentColumns {
  readonly label: boolean;
  readonly answers?: boolean;
  readonly question?: boolean;
}

/** Decides one row's fate; keeps state for de-duplication across the whole dataset. */
export class RowCleaner {
  private readonly seen = new FingerprintSet();
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(
    private readonly options: RowCleaning,
    private readonly present: PresentColumns,
  ) {
    this.allowed = options.labels ? new Set(options.labels) : undefined;
  }

  judge(row: Row): RowVerdict {
    const { options } = this;
    const raw = row[options.text_column];
    if (raw === null || raw === undefined) return { quarantine: `${options.text_column} is missing` };
    if (typeof raw !== 'string') return { quarantine: `${options.text_column} is not text (${typeof raw})` };
    const text = cleanText(raw, options);
    if (text === '' && options.drop_empty) return { quarantine: `${options.text_column} is empty after cleaning` };
    const length = [...text].length;
    if (length < options.min_length)
      return { quarantine: `${options.text_column} is shorter than ${options.min_length} characters (${length})` };
    if (options.max_length !== undefined && length > options.max_length) {
      return { quarantine: `${options.text_column} is longer than ${options.max_length} characters (${length})` };
    }
    let label: unknown;
    if (this.present.label) {
      label = row[options.label_column];
      if (label === null || label === undefined || label === '')
        return { quarantine: `${options.label_column} is missing` };
      if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean')
        return {
          quarantine: `${options.label_column} is not one label (${Array.isArray(label) ? 'a list' : typeof label})`,
        };
      if (this.allowed && !(typeof label === 'string' && this.allowed.has(label))) {
        return { quarantine: `${options.label_column} ${JSON.stringify(label)} is not one of the allowed labels` };
      }
    }
    const kept: Row = { ...row, [options.text_column]: text };
    let movedAnswers: number | undefined;
    if (this.present.answers) {
      const clean = (s: string) => cleanText(s, options);
      const placed = moveAnswers(raw, text, row[options.answers_column], clean, {
        answers: options.answers_column,
        context: options.text_column,
      });
      if ('quarantine' in placed) return placed;
      kept[options.answers_column] = placed.answers;
      movedAnswers = placed.moved;
      if (this.present.question) {
        const question = row[options.question_column];
        const cleanQuestion = typeof question === 'string' ? clean(question) : '';
        if (cleanQuestion === '')
          return { quarantine: `${options.question_column} is missing or empty after cleaning` };
        kept[options.question_column] = cleanQuestion;
      }
    }
    if (options.dedupe) {
      // A question-answering row repeats another only with the same context, question and answers.
      const digest = createHash('sha1')
        .update(text)
        .update('\u0000')
        .update(JSON.stringify(label ?? null))
        .update(
          this.present.answers ? JSON.stringify([kept[options.question_column], kept[options.answers_column]]) : '',
        )
        .digest();
      if (!this.seen.add(digest.readUInt32LE(0), digest.readUInt32LE(4))) return { duplicate: true };
    }
    return { keep: kept, ...(movedAnswers !== undefined && { movedAnswers }) };
  }
}
