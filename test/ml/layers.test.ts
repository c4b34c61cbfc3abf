import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { dropout } from '../../ml/models/dropout';
import { gelu } from '../../ml/models/gelu';
import { layerNorm, normalizedLinear } from '../../ml/models/layer-norm';
import { linear } from '../../ml/models/linear';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';

let tf: typeof Tf;
before(async () => {
  tf = (await loadBackend()).tf;
  assert.equal(tf.getBackend(), 'tensorflow');
});

const maxDifference = (a: Tf.Tensor, b: Tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** Runs `body` on TensorFlow.js's plain JavaScript backend, then returns to the native one. */
async function onJavaScriptBackend<T>(body: () => T): Promise<T> {
  assert.ok(await tf.setBackend('cpu'));
  try {
    return body();
  } finally {
    await tf.setBackend('tensorflow');
  }
}

// Formulas differentiated op by op by TensorFlow.js: what the hand-written gradients must equal.
const referenceGelu = (x: Tf.Tensor) =>
  tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))));
const referenceLayerNorm = (x: Tf.Tensor, gamma: Tf.Tensor, beta: Tf.Tensor) => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), gamma), beta);
};

test('GELU and its hand-written gradient equal the tanh formula differentiated op by op, on both backends', async () => {
  for (const run of [<T>(body: () => T) => Promise.resolve(body()), onJavaScriptBackend]) {
    await run(() =>
      tf.tidy(() => {
        const x = tf.randomNormal([3, 5, 16], 0, 3, 'float32', 1);
        const weights = tf.randomNormal([3, 5, 16], 0, 1, 'float32', 2);
        assert.ok(maxDifference(gelu(tf, x), referenceGelu(x)) < 1e-5);
        const mine = tf.grad((v) => tf.sum(tf.mul(gelu(tf, v), weights)))(x);
        const reference = tf.grad((v) => tf.sum(tf.mul(referenceGelu(v), weights)))(x);
        assert.ok(maxDifference(mine, reference) < 1e-5, String(maxDifference(mine, reference)));
      }),
    );
  }
});

test('layer norm and its gradients for input, gamma and beta equal the formula differentiated op by op, on both backends', async () => {
  // The small input takes the formula on every backend, the large one the fused kernel on the native backend.
  for (const shape of [
    [4, 6, 32],
    [64, 32, 64],
  ]) {
    for (const run of [<T>(body: () => T) => Promise.resolve(body()), onJavaScriptBackend]) {
      await run(() =>
        tf.tidy(() => {
          const width = shape[2]!;
          const x = tf.randomNormal(shape, 1, 2, 'float32', 3);
          const gamma = tf.randomNormal<Tf.Rank.R1>([width], 1, 0.3, 'float32', 4);
          const beta = tf.randomNormal<Tf.Rank.R1>([width], 0, 0.3, 'float32', 5);
          const weights = tf.randomNormal(shape, 0, 1, 'float32', 6);
          assert.ok(maxDifference(layerNorm(tf, x, gamma, beta), referenceLayerNorm(x, gamma, beta)) < 1e-5);
          const loss =
            (norm: typeof referenceLayerNorm) =>
            (...[v, g, b]: Tf.Tensor[]) =>
              tf.sum(tf.mul(norm(v!, g!, b!), weights));
          const inputs = [x, gamma, beta];
          const mine = tf.grads(loss((v, g, b) => layerNorm(tf, v, g as Tf.Tensor1D, b as Tf.Tensor1D)))(inputs);
          const reference = tf.grads(loss(referenceLayerNorm))(inputs);
          mine.forEach((grad, i) => {
            const scale = 1 + tf.max(tf.abs(reference[i]!)).dataSync()[0]!;
            assert.ok(maxDifference(grad, reference[i]!) < 1e-5 * scale, `shape ${shape.join('×')}, input ${i}`);
          });
        }),
      );
    }
  }
});

test('the native linear layer and its gradients equal matMul plus bias differentiated by TensorFlow.js', () => {
  tf.tidy(() => {
    const x = tf.randomNormal<Tf.Rank.R2>([12, 16], 0, 1, 'float32', 11);
    const kernel = tf.randomNormal<Tf.Rank.R2>([16, 24], 0, 1, 'float32', 12);
    const bias = tf.randomNormal<Tf.Rank.R1>([24], 0, 1, 'float32', 13);
    const weights = tf.randomNormal([12, 24], 0, 1, 'float32', 14);
    const reference = (a: Tf.Tensor2D, w: Tf.Tensor2D, b: Tf.Tensor1D) => tf.add(tf.matMul(a, w), b);
    assert.ok(maxDifference(linear(tf, x, kernel, bias), reference(x, kernel, bias)) < 1e-5);
    const loss =
      (f: typeof reference) =>
      (...[a, w, b]: Tf.Tensor[]) =>
        tf.sum(tf.mul(f(a as Tf.Tensor2D, w as Tf.Tensor2D, b as Tf.Tensor1D), weights));
    const mine = tf.grads(loss((a, w, b) => linear(tf, a, w, b)))([x, kernel, bias]);
    const expected = tf.grads(loss(reference))([x, kernel, bias]);
    mine.forEach((grad, i) => assert.ok(maxDifference(grad, expected[i]!) < 1e-4, `input ${i}`));
  });
});

test('a layer norm folded into the next linear layer equals the two applied in turn, in value and gradients', () => {
  tf.tidy(() => {
    const x = tf.randomNormal<Tf.Rank.R2>([600, 128], 1, 2, 'float32', 15);
    const params = [
      tf.randomNormal<Tf.Rank.R1>([128], 1, 0.3, 'float32', 16),
      tf.randomNormal<Tf.Rank.R1>([128], 0, 0.3, 'float32', 17),
      tf.randomNormal<Tf.Rank.R2>([128, 48], 0, 0.1, 'float32', 18),
      tf.randomNormal<Tf.Rank.R1>([48], 0, 0.1, 'float32', 19),
    ] as const;
    const weights = tf.randomNormal([600, 48], 0, 1, 'float32', 20);
    type Args = [Tf.Tensor2D, Tf.Tensor1D, Tf.Tensor1D, Tf.Tensor2D, Tf.Tensor1D];
    const folded = (...[v, g, b, w, c]: Args) => normalizedLinear(tf, v, g, b, w, c);
    const inTurn = (...[v, g, b, w, c]: Args) => linear(tf, layerNorm(tf, v, g, b) as Tf.Tensor2D, w, c);
    const inputs = [x, ...params];
    assert.ok(maxDifference(folded(...(inputs as Args)), inTurn(...(inputs as Args))) < 1e-4);
    const loss =
      (f: typeof folded) =>
      (...args: Tf.Tensor[]) =>
        tf.sum(tf.mul(f(...(args as Args)), weights));
    const mine = tf.grads(loss(folded))(inputs);
    const reference = tf.grads(loss(inTurn))(inputs);
    mine.forEach((grad, i) => {
      const scale = 1 + tf.max(tf.abs(reference[i]!)).dataSync()[0]!;
      assert.ok(maxDifference(grad, reference[i]!) < 1e-5 * scale, `input ${i}`);
    });
  });
});

test('dropout: the mask depends only on the seed, drops about the rate, keeps the mean, and gates the gradient', () => {
  tf.tidy(() => {
    const x = tf.ones([64, 256]);
    const a = dropout(tf, x, 0.25, [7, 1]);
    assert.equal(maxDifference(a, dropout(tf, x, 0.25, [7, 1])), 0);
    assert.ok(maxDifference(a, dropout(tf, x, 0.25, [7, 2])) > 0);
    const values = a.dataSync();
    const dropped = values.filter((v) => v === 0).length / values.length;
    assert.ok(Math.abs(dropped - 0.25) < 0.01, `dropped ${dropped}`);
    assert.ok(values.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    const grad = tf.grad((v) => tf.sum(dropout(tf, v, 0.25, [7, 1])))(x);
    assert.equal(maxDifference(grad, a), 0);
  });
});

test("AdamW's fused native update equals its portable one over steps with decay and clipping", async () => {
  const run = () => {
    const params = new Map([
      ['w/kernel', tf.variable(tf.randomNormal([40, 30], 0, 1, 'float32', 8), true, `w${Math.random()}`)],
      ['w/bias', tf.variable(tf.randomNormal([30], 0, 1, 'float32', 9), true, `b${Math.random()}`)],
    ]);
    const optimizer = new AdamW(tf, params, { ...ADAMW_DEFAULTS, weightDecay: 0.1, clipNorm: 5 });
    for (let step = 0; step < 5; step++) {
      tf.tidy(() => {
        const grads = {
          'w/kernel': tf.randomNormal([40, 30], 0, 1 + step, 'float32', 10 + step),
          'w/bias': tf.randomNormal([30], 0, 1, 'float32', 20 + step),
        };
        optimizer.apply(grads, 0.01);
      });
    }
    const slots = [...optimizer.slotValues().values()];
    const values = [...params.values(), ...slots].map((v) => v.dataSync().slice());
    slots.forEach((slot) => slot.dispose());
    optimizer.dispose();
    params.forEach((v) => v.dispose());
    return values;
  };
  const native = run();
  const portable = await onJavaScriptBackend(run);
  native.forEach((values, i) => {
    const worst = Math.max(...values.map((v, j) => Math.abs(v - portable[i]![j]!)));
    assert.ok(worst < 1e-5, `tensor ${i} differs by ${worst}`);
  });
});
