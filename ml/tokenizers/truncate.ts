/** Cuts `ids` to `max`, keeping the opening and closing special tokens (e.g. [CLS], [SEP]) when present. */
export function truncateIds(
  ids: readonly number[],
  max: number,
  from: 'end' | 'start',
  specials: { start?: number; end?: number },
): number[] {
  if (ids.length <= max) return [...ids];
  const head = specials.start !== undefined && ids[0] === specials.start ? 1 : 0;
  const tail = specials.end !== undefined && ids[ids.length - 1] === specials.end ? 1 : 0;
  const body = ids.slice(head, ids.length - tail);
  const keep = max - head - tail;
  const kept = from === 'end' ? body.slice(0, keep) : body.slice(body.length - keep);
  return [...ids.slice(0, head), ...kept, ...ids.slice(ids.length - tail)];
}
