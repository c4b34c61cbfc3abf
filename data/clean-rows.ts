import { createHash } from 'node:crypto';
import { FingerprintSet } from './fingerprint-set';
import type { Row } from '../store/arrow-io';
import { cleanText, type TextCleaning } from './clean-text';

/** The `clean` activity's settings after defaults are applied. */
export interface RowCleaning extends TextCleaning {
  readonly text_column: string;
  readonly label_column: string;
  readonly drop_empty: boolean;
  readonly dedupe: boolean;
  readonly min_length: number;
  readonly max_length?: number;
  readonly labels?: readonly string[];
  readonly max_bad_fraction: number;
}

export type RowVerdict = { keep: Row } | { quarantine: string } | { duplicate: true };

/** Decides one row's fate; keeps state for de-duplication across the whole dataset. */
export class RowCleaner {
  private readonly seen = new FingerprintSet();
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(
    private readonly options: RowCleaning,
    private readonly hasLabel: boolean,
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
    if (this.hasLabel) {
      label = row[options.label_column];
      if (label === null || label === undefined || label === '')
        return { quarantine: `${options.label_column} is missing` };
      if (this.allowed && !(typeof label === 'string' && this.allowed.has(label))) {
        return { quarantine: `${options.label_column} ${JSON.stringify(label)} is not one of the allowed labels` };
      }
    }
    if (options.dedupe) {
      const digest = createHash('sha1')
        .update(text)
        .update('\u0000')
        .update(JSON.stringify(label ?? null))
        .digest();
      if (!this.seen.add(digest.readUInt32LE(0), digest.readUInt32LE(4))) return { duplicate: true };
    }
    return { keep: { ...row, [options.text_column]: text } };
  }
}
