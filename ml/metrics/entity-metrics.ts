import type { ClassScore } from '../tasks/task';

/** An entity found in a tag sequence: its type and first and last position (inclusive). */
export interface Entity {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** Entity-level precision, recall and F1 (micro-averaged), per entity type, and tag accuracy. */
export interface EntityMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of tags predicted exactly (every position, `O` included). */
  readonly accuracy: number;
  /** One row per entity type seen in either sequence, in code-point order of the type name. */
  readonly perType: readonly ClassScore[];
}

function split(tag: string): { prefix: string; type: string } {
  const rest = tag.slice(1);
  const dash = rest.indexOf('-');
  return { prefix: tag.charAt(0), type: (dash < 0 ? rest : rest.slice(dash + 1)) || '_' };
}

function endsChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startsChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/**
 * The entities of IOB2/IOBES tag sequences with CoNLL semantics (seqeval's default mode): an
 * entity starts at B- (or S-), and at an I- that follows O or another type, so an I- without a B-
 * opens an entity rather than being dropped; it ends where the next tag cannot continue it.
 * Sequences are read as one, each followed by an `O`, so positions count across them.
 */
export function entities(sequences: readonly (readonly string[])[]): Entity[] {
  const found: Entity[] = [];
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  let i = 0;
  const visit = (chunk: string) => {
    const { prefix: tag, type } = split(chunk);
    if (endsChunk(prevTag, tag, prevType, type)) found.push({ type: prevType, start: begin, end: i - 1 });
    if (startsChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
    i++;
  };
  for (const sequence of sequences) {
    for (const tag of sequence) visit(tag);
    visit('O');
  }
  visit('O');
  return found;
}

function score(type: string, correct: number, predicted: number, actual: number): ClassScore {
  const precision = predicted === 0 ? 0 : correct / predicted;
  const recall = actual === 0 ? 0 : correct / actual;
  const denominator = precision + recall;
  return {
    label: type,
    precision,
    recall,
    f1: denominator === 0 ? 0 : (2 * precision * recall) / denominator,
    support: actual,
  };
}

/** Scores predicted tag sequences against the true ones, entity by entity. */
export function entityMetrics(
  actual: readonly (readonly string[])[],
  predicted: readonly (readonly string[])[],
): EntityMetrics {
  if (actual.length !== predicted.length)
    throw new RangeError(`${actual.length} true sequences but ${predicted.length} predicted`);
  let tags = 0;
  let correctTags = 0;
  actual.forEach((sequence, s) => {
    if (sequence.length !== predicted[s]!.length)
      throw new RangeError(`sequence ${s}: ${sequence.length} true tags but ${predicted[s]!.length} predicted`);
    sequence.forEach((tag, t) => {
      tags++;
      if (tag === predicted[s]![t]) correctTags++;
    });
  });
  const byType = (found: readonly Entity[]) => {
    const out = new Map<string, Set<string>>();
    for (const e of found) {
      if (!out.has(e.type)) out.set(e.type, new Set());
      out.get(e.type)!.add(`${e.start}:${e.end}`);
    }
    return out;
  };
  const truth = byType(entities(actual));
  const guess = byType(entities(predicted));
  const types = [...new Set([...truth.keys(), ...guess.keys()])].sort();
  let correct = 0;
  let predictedCount = 0;
  let actualCount = 0;
  const perType = types.map((type) => {
    const t = truth.get(type) ?? new Set<string>();
    const g = guess.get(type) ?? new Set<string>();
    const hits = [...g].filter((span) => t.has(span)).length;
    correct += hits;
    predictedCount += g.size;
    actualCount += t.size;
    return score(type, hits, g.size, t.size);
  });
  const micro = score('', correct, predictedCount, actualCount);
  return {
    precision: micro.precision,
    recall: micro.recall,
    f1: micro.f1,
    accuracy: tags === 0 ? 0 : correctTags / tags,
    perType,
  };
}
