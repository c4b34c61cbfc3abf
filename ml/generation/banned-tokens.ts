/** What keeps a sequence's next token from being any token. */
export interface TokenBans {
  /** The token that ends a sequence. */
  readonly stopId: number;
  /** The stop token is not chosen before this many new tokens (0: from the first). */
  readonly minNewTokens: number;
  /** No n-gram of this size appears twice in a sequence's new tokens (0: any may). */
  readonly noRepeatNgram: number;
}

/**
 * The tokens a sequence that has produced `tokens` may not pick next: the stop token while it is
 * shorter than `minNewTokens`, and every token that would complete an n-gram it already holds.
 */
export function bannedTokens(tokens: readonly number[], bans: TokenBans): Set<number> {
  const banned = new Set<number>();
  if (tokens.length < bans.minNewTokens) banned.add(bans.stopId);
  const n = bans.noRepeatNgram;
  if (n <= 0 || tokens.length < n - 1) return banned;
  // The last n − 1 tokens start a new n-gram; every earlier occurrence of them bans what followed it.
  const start = tokens.length - (n - 1);
  for (let i = 0; i + n - 1 < tokens.length; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = tokens[i + j] === tokens[start + j];
    if (same) banned.add(tokens[i + n - 1]!);
  }
  return banned;
}
