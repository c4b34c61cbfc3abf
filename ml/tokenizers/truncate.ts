/**
 * The positions of `ids` that survive cutting it to `max`: the opening and closing special tokens
 * (e.g. [CLS], [SEP]) when present, and the body cut from its end or its start.
 */
export function keptPositions(
  ids: readonly number[],
  max: number,
  from: 'end' | 'start',
  specials: { start?: number; end?: number },
): number[] {
  const all = ids.map((_, i) => i);
  if (ids.length <= max) return all;
  const head = specials.start !== undefined && ids[0] === specials.start ? 1 : 0;
  const tail = specials.end !== undefined && ids[ids.length - 1] === specials.end ? 1 : 0;
  const body = all.slice(head, ids.length - tail);
  const keep = max - head - tail;
  const kept = from === 'end' ? body.slice(0, keep) : body.slice(body.length - keep);
  return [...all.slice(0, head), ...kept, ...all.slice(ids.length - tail)];
}

/** Cuts `ids` to `max`, keeping the opening and closing special tokens (e.g. [CLS], [SEP]) when present. */
export function truncateIds(
  ids: readonly number[],
  max: number,
  from: 'end' | 'start',
  specials: { start?: number; end?: number },
): number[] {
  return keptPositions(ids, max, from, specials).map((i) => ids[i]!);
}
