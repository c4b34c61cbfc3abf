import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { gpuReport, type LoadedBackend } from '../../ml/backend/load-backend';
import { tfjsNodeGpuInstalled } from '../support/tfjs-node-gpu';

// Each backend choice runs in its own process: TensorFlow.js backends are process-wide.
function loadIn(choice: string): {
  backend?: string;
  skipped?: { backend: string; reason: string }[];
  device?: string;
  error?: string;
  sum?: number[];
} {
  const script = `
    const { loadBackend } = require(${JSON.stringify(join(__dirname, '..', '..', 'ml', 'backend', 'load-backend.js'))});
    loadBackend(${JSON.stringify(choice)}).then(
      ({ tf, backend, skipped, device }) => console.log(JSON.stringify({ backend, skipped, device, sum: Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync()) })),
      (error) => console.log(JSON.stringify({ error: error.message })),
    );`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split('\n').pop()!,
  ) as ReturnType<typeof loadIn>;
}

test('auto picks the native backend here: tfjs-node-gpu on the CPU once `setup --gpu` installed it, else tfjs-node, saying why', () => {
  const result = loadIn('auto');
  // No machine here has a GPU, so TensorFlow's GPU build runs on its CPU device.
  if (tfjsNodeGpuInstalled) {
    assert.equal(result.backend, 'tensorflow-gpu', JSON.stringify(result));
    assert.deepEqual(result.skipped, []);
  } else {
    assert.equal(result.backend, 'tensorflow', JSON.stringify(result));
    assert.deepEqual(result.skipped, [{ backend: 'tensorflow-gpu', reason: 'not installed' }]);
  }
  assert.equal(result.device, 'cpu');
  assert.deepEqual(result.sum, [4, 6]);
});

test('wasm and cpu can be forced and compute', () => {
  for (const backend of ['wasm', 'cpu']) {
    const result = loadIn(backend);
    assert.equal(result.backend, backend, JSON.stringify(result));
    assert.deepEqual(result.sum, [4, 6]);
  }
});

test('a backend that cannot load, or an unknown name, is a clear error', () => {
  const gpu = loadIn('tensorflow-gpu');
  if (tfjsNodeGpuInstalled) assert.deepEqual([gpu.backend, gpu.device, gpu.sum], ['tensorflow-gpu', 'cpu', [4, 6]]);
  else assert.match(gpu.error!, /^TensorFlow\.js backend tensorflow-gpu is not available: not installed$/);
  assert.match(
    loadIn('tpu').error!,
    /unknown TensorFlow\.js backend "tpu"; choose one of auto, tensorflow-gpu, tensorflow, wasm, cpu/,
  );
});

test('on wasm, which lacks the gather gradient kernel, the embedding gradient still sums per row', () => {
  const script = `
    const { loadBackend } = require(${JSON.stringify(join(__dirname, '..', '..', 'ml', 'backend', 'load-backend.js'))});
    const { embeddingLookup } = require(${JSON.stringify(join(__dirname, '..', '..', 'ml', 'models', 'embedding-lookup.js'))});
    loadBackend('wasm').then(({ tf }) => {
      const table = tf.variable(tf.ones([5, 2]));
      const ids = tf.tensor2d([[0, 1, 1], [4, 1, 0]], [2, 3], 'int32');
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(tf, table, ids), tf.tensor1d([1, 10]))), [table]);
      console.log(JSON.stringify({ kernel: !!tf.getKernel('UnsortedSegmentSum', 'wasm'), grad: grads[table.name].arraySync() }));
    });`;
  const out = JSON.parse(
    execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split('\n').pop()!,
  ) as { kernel: boolean; grad: number[][] };
  assert.equal(out.kernel, false, 'wasm still lacks the kernel, so the substitute path is what ran');
  assert.deepEqual(out.grad, [
    [2, 20],
    [3, 30],
    [0, 0],
    [0, 0],
    [1, 10],
  ]);
});

test('a GPU worker says which GPU it found, or why none and what it trains on instead', () => {
  const tf = {} as LoadedBackend['tf'];
  assert.equal(
    gpuReport({ tf, backend: 'tensorflow-gpu', skipped: [], device: 'gpu' }),
    'GPU steps train on a CUDA GPU (tfjs-node-gpu)',
  );
  assert.equal(
    gpuReport({ tf, backend: 'tensorflow-gpu', skipped: [], device: 'cpu' }),
    'no usable GPU: tfjs-node-gpu loaded, but TensorFlow found no CUDA device (no GPU, or no driver); GPU steps train on TensorFlow on the CPU instead',
  );
  assert.equal(
    gpuReport({
      tf,
      backend: 'wasm',
      skipped: [
        { backend: 'tensorflow-gpu', reason: 'libcudart.so.12: cannot open shared object file' },
        { backend: 'tensorflow', reason: 'not installed' },
      ],
      device: 'cpu',
    }),
    'no usable GPU: tfjs-node-gpu did not load: libcudart.so.12: cannot open shared object file; GPU steps train on the wasm backend on the CPU instead',
  );
});

test('setIntraOpThreads sizes the pool TensorFlow runs an op on, and only before the backend loads', () => {
  // The intra-op pool's threads are the ones the process gains per thread asked for (they keep
  // the name of the thread that made them); count them after an op has run.
  const threadsWith = (intraOp: number) => {
    const script = `
      const backend = require(${JSON.stringify(join(__dirname, '..', '..', 'ml', 'backend', 'load-backend.js'))});
      const { readdirSync } = require('node:fs');
      backend.setIntraOpThreads(${intraOp});
      backend.loadBackend('tensorflow').then(({ tf }) => {
        tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).dataSync();
        let late;
        try { backend.setIntraOpThreads(2); } catch (error) { late = error.message; }
        console.log(JSON.stringify({ threads: readdirSync('/proc/self/task').length, late }));
      });`;
    return JSON.parse(
      execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split('\n').pop()!,
    ) as {
      threads: number;
      late?: string;
    };
  };
  const one = threadsWith(1);
  const four = threadsWith(4);
  assert.equal(four.threads - one.threads, 3, `${one.threads} threads with 1, ${four.threads} with 4`);
  assert.match(one.late!, /already loaded: set its threads before loading it/);
});
