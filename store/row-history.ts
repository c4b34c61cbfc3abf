import type { ArtifactStore } from './artifact-store';

/** One dataset on the way from a source file to the dataset a step scores: the step that made it and its rows. */
export interface DatasetRows {
  readonly sha256: string;
  readonly step?: string;
  readonly activity?: string;
  readonly rows?: number;
}

/** Rows a step dropped from the dataset it was given (quarantined, duplicates, filtered). */
export interface DroppedRows {
  readonly step: string;
  readonly activity: string;
  readonly dropped: number;
}

/** Steps that divide a dataset on purpose: fewer rows out is not a loss. */
const DIVIDING_ACTIVITIES = new Set(['split']);

/**
 * The datasets a dataset was made from, source first: at each step its dataset parent (a tokenize
 * step's other parent is its tokenizer), as far back as the store's metadata goes.
 */
export async function datasetChain(store: ArtifactStore, sha256: string): Promise<DatasetRows[]> {
  const chain: DatasetRows[] = [];
  const seen = new Set<string>();
  for (let at: string | undefined = sha256; at !== undefined && !seen.has(at);) {
    seen.add(at);
    const artifact = await store.metadata(at);
    if (artifact?.kind !== 'dataset') break;
    const { step, activity } = artifact.provenance;
    chain.unshift({
      sha256: at,
      ...(step !== undefined && { step }),
      ...(activity !== undefined && { activity }),
      ...(artifact.rows !== undefined && { rows: artifact.rows }),
    });
    let next: string | undefined;
    for (const parent of artifact.provenance.parents ?? [])
      if ((await store.metadata(parent))?.kind === 'dataset') {
        next = parent;
        break;
      }
    at = next;
  }
  return chain;
}

/** The steps of a chain that left out rows of the dataset they were given, in order. */
export function droppedRows(chain: readonly DatasetRows[]): DroppedRows[] {
  const dropped: DroppedRows[] = [];
  for (let i = 1; i < chain.length; i++) {
    const [before, after] = [chain[i - 1]!, chain[i]!];
    if (before.rows === undefined || after.rows === undefined || after.activity === undefined) continue;
    if (DIVIDING_ACTIVITIES.has(after.activity) || after.rows >= before.rows) continue;
    dropped.push({ step: after.step ?? after.activity, activity: after.activity, dropped: before.rows - after.rows });
  }
  return dropped;
}

/** `3 rows left out upstream (clean_test 3)`: how many rows steps before left out, and where. */
export function droppedSummary(dropped: readonly DroppedRows[]): string {
  const total = dropped.reduce((sum, d) => sum + d.dropped, 0);
  return `${total} row${total === 1 ? '' : 's'} left out upstream (${dropped.map((d) => `${d.step} ${d.dropped}`).join(', ')})`;
}
