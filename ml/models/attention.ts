import type { ModelOps } from './model-ops';

/**
 * Scaled dot-product attention of queries q [batch, heads, queries, head size] (already divided by
 * √head size) over keys k and values v [batch, heads, keys, head size], with `bias` added to the
 * scores before the softmax (a large negative value hides a key), dropout on the weights, and the
 * heads joined again: rows [batch·queries, hidden].
 */
export function attentionRows<T>(
  o: ModelOps<T>,
  q: T,
  k: T,
  v: T,
  bias: T | undefined,
  dropout: number,
  hidden: number,
): T {
  const scores = o.matMul(q, k, true);
  const probs = o.dropout(o.softmax(bias === undefined ? scores : o.add(scores, bias)), dropout);
  return o.reshape(o.transpose(o.matMul(probs, v), [0, 2, 1, 3]), [-1, hidden]);
}

/**
 * Factors [3·hidden] for a fused q|k|v projection: the query third divided by √(head size), as
 * the scores need, the key and value thirds unchanged.
 */
export function queryScale<T>(o: ModelOps<T>, hidden: number, heads: number): T {
  const dh = hidden / heads;
  return o.constant(
    Array.from({ length: 3 * hidden }, (_, i) => (i < hidden ? 1 / Math.sqrt(dh) : 1)),
    [3 * hidden],
  );
}

/** Added to the score of a key a query must not see (padding, the future, another row's cache slots). */
export const HIDDEN_KEY = -1e9;

/** The score bias that hides padding keys: 0 where mask [batch, keys] is 1, −10⁹ where it is 0, as [batch, 1, 1, keys]. */
export function paddingBias<T>(o: ModelOps<T>, mask: T): T {
  return o.mul(o.sub(o.scalar(1), o.reshape(mask, [o.dim(mask, 0), 1, 1, o.dim(mask, 1)])), o.scalar(HIDDEN_KEY));
}
