import type { ArtifactRef } from '../core/artifacts';
import type { Column, Row } from '../store/arrow-io';
import type { ArtifactProvenance, ArtifactStore } from '../store/artifact-store';
import { DatasetWriter } from '../store/dataset-writer';
import { failureClass } from '../core/failures';

/** Raised when more rows are bad than the pipeline tolerates; the quarantine dataset is kept for inspection. */
export class TooManyBadRows extends failureClass('TooManyBadRows') {}

const QUARANTINE_COLUMNS: Column[] = [
  { name: 'row', type: 'int32' },
  { name: 'reason', type: 'utf8' },
  { name: 'record', type: 'utf8' },
];

/** The longest record text a quarantine row keeps: enough to see what went wrong. */
const RECORD_CHARS = 10_000;

/**
 * The rows a data step sets aside, with their source row (or line) number and the reason, streamed
 * into a quarantine dataset; counts per reason for the message when there are too many.
 */
export class Quarantine {
  private readonly writer: DatasetWriter;
  private readonly reasons = new Map<string, number>();
  private pending: Row[] = [];
  private first: number | undefined;
  count = 0;

  constructor(store: ArtifactStore, provenance: ArtifactProvenance) {
    this.writer = new DatasetWriter(
      store,
      { kind: 'dataset', meta: { role: 'quarantine' }, provenance },
      QUARANTINE_COLUMNS,
    );
  }

  /** Sets a row aside; `record` is its original text or JSON. */
  add(row: number, reason: string, record: string): void {
    this.pending.push({
      row,
      reason,
      record: record.length > RECORD_CHARS ? `${record.slice(0, RECORD_CHARS)}…` : record,
    });
    this.first ??= row;
    this.count++;
    const general = reason.replace(/\s*\(\d+\)$/, '');
    this.reasons.set(general, (this.reasons.get(general) ?? 0) + 1);
  }

  /** Writes the rows set aside since the last flush. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    await this.writer.append(rows);
  }

  async close(): Promise<ArtifactRef> {
    await this.flush();
    return this.writer.close();
  }

  /** Throws TooManyBadRows when more than `maxFraction` of `total` rows were set aside. */
  check(total: number, maxFraction: number, quarantine: ArtifactRef, stoppedAt?: number): void {
    const fraction = total === 0 ? 0 : this.count / total;
    if (fraction <= maxFraction) return;
    const breakdown = [...this.reasons].map(([reason, n]) => `${reason}: ${n}`).join('; ');
    const counted =
      stoppedAt !== undefined && stoppedAt < total
        ? `At least ${this.count} of ${total} rows (reading stopped at row ${stoppedAt})`
        : `${this.count} of ${total} rows`;
    throw new TooManyBadRows(
      `${counted} (${(fraction * 100).toFixed(1)}%) were quarantined, above max_bad_fraction ${maxFraction}. ` +
        `Reasons: ${breakdown}. First: row ${String(this.first)}. Quarantined rows are in artifact ${quarantine.sha256}.`,
    );
  }
}
