import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GREEDY, tokenPicker, type SamplingOptions } from '../../ml/generation/sampling';

/** How often each token is drawn in `draws` picks, as shares. */
function shares(logits: Float32Array, options: SamplingOptions, banned: ReadonlySet<number>, draws: number): number[] {
  const pick = tokenPicker(options);
  const counts = new Array<number>(logits.length).fill(0);
  for (let d = 0; d < draws; d++) counts[pick(logits, banned)]!++;
  return counts.map((c) => c / draws);
}

/** softmax(logits / temperature) over `kept`, zero elsewhere. */
function expected(logits: readonly number[], temperature: number, kept: readonly number[]): number[] {
  const weights = logits.map((l, i) => (kept.includes(i) ? Math.exp(l / temperature) : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** Every share within `tolerance` of the expected probability (a fixed seed: the draws are the same every run). */
function assertClose(actual: number[], wanted: number[], tolerance: number, what: string): void {
  actual.forEach((share, i) =>
    assert.ok(
      Math.abs(share - wanted[i]!) <= tolerance,
      `${what}: token ${i} drawn ${share.toFixed(4)}, expected ${wanted[i]!.toFixed(4)}`,
    ),
  );
}

const LOGITS = [2, 1, 0.5, 0.5, -1, 3];
const DRAWS = 40_000;

test('sampling draws each token with its softmax probability at the temperature; banned tokens never', () => {
  const drawn = shares(new Float32Array(LOGITS), { temperature: 0.8, topP: 1, topK: 0, seed: 11 }, new Set([5]), DRAWS);
  assertClose(drawn, expected(LOGITS, 0.8, [0, 1, 2, 3, 4]), 0.01, 'temperature 0.8, token 5 banned');
  assert.equal(drawn[5], 0);
});

test('top-k keeps the k most likely tokens (equal logits: the lower id first); top-p the fewest holding that share', () => {
  const logits = new Float32Array(LOGITS);
  // Ranked: 5, 0, 1, then 2 before 3 (equal logits).
  assertClose(
    shares(logits, { temperature: 1, topP: 1, topK: 4, seed: 3 }, new Set(), DRAWS),
    expected(LOGITS, 1, [5, 0, 1, 2]),
    0.01,
    'top-k 4',
  );
  assertClose(
    shares(logits, { temperature: 1, topP: 1, topK: 2, seed: 3 }, new Set([5]), DRAWS),
    expected(LOGITS, 1, [0, 1]),
    0.01,
    'top-k 2 after a ban',
  );
  // softmax at temperature 1: token 5 holds 0.593, tokens 5 and 0 0.812.
  assertClose(
    shares(logits, { temperature: 1, topP: 0.7, topK: 0, seed: 5 }, new Set(), DRAWS),
    expected(LOGITS, 1, [5, 0]),
    0.01,
    'top-p 0.7',
  );
  assertClose(
    shares(logits, { temperature: 1, topP: 0.55, topK: 0, seed: 5 }, new Set(), DRAWS),
    expected(LOGITS, 1, [5]),
    0,
    'top-p 0.55',
  );
});

test('top-p over a large flat vocabulary keeps the lowest ids that hold the share, however many', () => {
  // 600 equal logits but one higher; token 0 banned. Top-p 0.5 keeps the high token and then the
  // lowest ids until half the mass: more than the first rounds of ordering reach.
  const vocabulary = 600;
  const high = 400;
  const logits = new Float32Array(vocabulary).fill(0);
  logits[high] = 2;
  const total = Math.exp(2) + vocabulary - 2;
  const others = Math.ceil(0.5 * total - Math.exp(2));
  assert.ok(others > 256 && others < high);
  const drawn = shares(logits, { temperature: 1, topP: 0.5, topK: 0, seed: 9 }, new Set([0]), 20_000);
  const outside = drawn.reduce((sum, share, i) => (i === high || (i >= 1 && i <= others) ? sum : sum + share), 0);
  assert.equal(outside, 0, 'no draw outside the nucleus');
  assert.ok(drawn[others]! > 0, `token ${others}, the last of the nucleus, is drawn`);
  const wanted = Math.exp(2) / (Math.exp(2) + others);
  assert.ok(Math.abs(drawn[high]! - wanted) < 0.2 * wanted, `the high token drawn ${drawn[high]}, expected ${wanted}`);
});

test('greedy picks the most likely token not banned, the lower id of equals', () => {
  const pick = tokenPicker(GREEDY);
  assert.equal(pick(new Float32Array(LOGITS), new Set()), 5);
  assert.equal(pick(new Float32Array(LOGITS), new Set([5, 0, 1])), 2);
  assert.equal(pick(new Float32Array([-Infinity, -Infinity]), new Set([0])), 1);
});
