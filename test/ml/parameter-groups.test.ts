import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { runTrainingGraph } from '../../ml/graph/graph-runner';
import { EncoderModel } from '../../ml/models/encoder-model';
import { classification } from '../../ml/tasks/classification';
import { encoderObjective, lossTargets, type EncoderBatch } from '../../ml/tasks/encoder-objective';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { readCheckpoint, restoreFrom, saveBaseWeights, saveCheckpoint } from '../../ml/train/checkpoint';
import { frozenParameters, learningRateScales, parameterGroup } from '../../ml/train/parameter-groups';
import { trainStep } from '../../ml/train/train-step';
import { FileArtifactStore } from '../../store/artifact-store';
import { TINY_BERT } from '../support/tiny-bert';

let tf: typeof Tf;
const dir = mkdtempSync(join(tmpdir(), 'pipewright-freeze-'));
const store = new FileArtifactStore(dir);
before(async () => {
  tf = (await loadBackend()).tf;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const BERT = TINY_BERT;

/** One of an optimizer's slots, read out. */
function slotData(optimizer: AdamW, name: string): Float32Array {
  const slots = optimizer.slotValues();
  try {
    return slots.get(name)!.dataSync() as Float32Array;
  } finally {
    slots.forEach((slot) => slot.dispose());
  }
}

function batch(step: number): EncoderBatch {
  const ids = Int32Array.from({ length: 32 }, (_, i) => 1 + ((i * 7 + step * 3) % 49));
  const mask = Int32Array.from({ length: 32 }, (_, i) => (i % 8 < 8 - (Math.floor(i / 8) % 3) ? 1 : 0));
  return { ids, mask, labels: Int32Array.from({ length: 4 }, (_, i) => (i + step) % 3), size: 4, length: 8 };
}

test('freeze patterns name parameter groups; one that matches nothing is an error listing the groups', () => {
  const model = new EncoderModel(tf, BERT, classification.head, 1);
  try {
    const names = [...model.params.keys()];
    assert.deepEqual(
      [...new Set(names.map(parameterGroup))],
      ['embeddings', 'layers.0', 'layers.1', 'layers.2', 'pooler', 'head'],
    );
    const frozen = frozenParameters(names, ['embeddings', 'layers.0-1']);
    assert.deepEqual(names.filter((n) => !frozen.has(n)).map(parameterGroup), [
      ...new Array<string>(12).fill('layers.2'),
      'pooler',
      'pooler',
      'head',
      'head',
    ]);
    assert.equal(frozenParameters(names, ['layers.2', 'layers.2']).size, 12);
    assert.throws(
      () => frozenParameters(names, ['layers.1-3']),
      /freeze pattern "layers\.1-3" matches no parameter \(no layers\.3\); the model's groups are embeddings, layers\.0-2, pooler, head/,
    );
    assert.throws(() => frozenParameters(names, ['layers.2-1']), /"layers\.2-1" matches no parameter;/);
  } finally {
    model.dispose();
  }
});

test('frozen parameters get no gradient, no optimizer state and no update, on the graph and eagerly alike', () => {
  const names = (model: EncoderModel) => [...model.params.keys()];
  const updates = (graphs: boolean) => {
    const previous = process.env.PIPEWRIGHT_TF_GRAPHS;
    process.env.PIPEWRIGHT_TF_GRAPHS = graphs ? 'on' : 'off';
    const model = new EncoderModel(tf, BERT, classification.head, 5);
    try {
      const frozen = frozenParameters(names(model), ['embeddings', 'layers.0']);
      const objective = encoderObjective(tf, model, { labelSmoothing: 0 }, frozen);
      const optimizer = new AdamW(tf, objective.params, ADAMW_DEFAULTS);
      const trainedSize = [...objective.params.values()].reduce((n, v) => n + v.size, 0);
      assert.equal(slotData(optimizer, 'adam/m').length, trainedSize, 'slots only for the trained parameters');
      const before = new Map([...model.params].map(([n, v]) => [n, Array.from(v.dataSync())]));
      for (let step = 0; step < 3; step++) trainStep(tf, objective, optimizer, batch(step), 1e-2, step);
      const changed = names(model).filter((n) => {
        const now = model.params.get(n)!.dataSync();
        return before.get(n)!.some((x, i) => x !== now[i]);
      });
      assert.deepEqual(
        changed,
        names(model).filter((n) => !frozen.has(n)),
        'exactly the unfrozen parameters moved',
      );
    } finally {
      model.dispose();
      if (previous === undefined) delete process.env.PIPEWRIGHT_TF_GRAPHS;
      else process.env.PIPEWRIGHT_TF_GRAPHS = previous;
    }
  };
  // (Whether the two paths' gradients agree is encoder-graph.test.ts's; after Adam steps they need
  // not: a gradient that is zero but for rounding, like the key bias's, becomes a full step.)
  updates(true);
  updates(false);
  // The training graph of a frozen set yields exactly the trained parameters' gradients.
  const model = new EncoderModel(tf, BERT, classification.head, 5);
  try {
    const trained = names(model).filter((n) => n.startsWith('layer2/') || n.startsWith('head/'));
    tf.tidy(() => {
      const b = batch(0);
      const result = runTrainingGraph(
        tf,
        model,
        {
          ids: tf.tensor2d(b.ids, [4, 8], 'int32'),
          mask: tf.tensor2d(b.mask, [4, 8], 'float32'),
          ...lossTargets(tf, tf.tensor1d(b.labels, 'int32'), 3, { labelSmoothing: 0 }),
          dropoutSeed: 1,
        },
        trained,
      );
      assert.deepEqual(Object.keys(result.grads), trained);
    });
  } finally {
    model.dispose();
  }
});

test('after gradual unfreezing, a checkpoint of the frozen epoch resumes with its moments kept and new ones at zero', async () => {
  const model = new EncoderModel(tf, BERT, classification.head, 9);
  try {
    const frozen = frozenParameters([...model.params.keys()], ['embeddings', 'layers.0-1']);
    const objective = encoderObjective(tf, model, { labelSmoothing: 0 }, frozen);
    const optimizer = new AdamW(tf, objective.params, ADAMW_DEFAULTS);
    for (let step = 0; step < 2; step++) trainStep(tf, objective, optimizer, batch(step), 1e-2, step);
    const ref = await saveCheckpoint(store, model, optimizer, { step: 2, epoch: 0, batchInEpoch: 2, seed: 9 });
    const savedM = Array.from(slotData(optimizer, 'adam/m'));

    const all = new AdamW(tf, model.params, ADAMW_DEFAULTS);
    const position = restoreFrom(tf, await readCheckpoint(store, ref), model, all);
    assert.equal(position.step, 2);
    assert.equal(all.step, 2);
    const m = slotData(all, 'adam/m');
    let at = 0;
    let savedAt = 0;
    for (const name of all.names) {
      const size = model.params.get(name)!.size;
      const slice = Array.from(m.subarray(at, at + size));
      if (frozen.has(name))
        assert.ok(
          slice.every((x) => x === 0),
          `${name} starts with zero moments`,
        );
      else {
        assert.deepEqual(slice, savedM.slice(savedAt, savedAt + size), `${name} keeps its moments`);
        savedAt += size;
      }
      at += size;
    }
    all.dispose();
    optimizer.dispose();
  } finally {
    model.dispose();
  }
});

test('a checkpoint stores its trained parameters and takes the frozen ones from base weights', async () => {
  const model = new EncoderModel(tf, BERT, classification.head, 4);
  const rebuilt = new EncoderModel(tf, BERT, classification.head, 5);
  try {
    const names = [...model.params.keys()];
    const encoder = names.filter((n) => !n.startsWith('head/'));
    const baseRef = await saveBaseWeights(store, model, encoder, { step: 'train' });
    const again = await saveBaseWeights(store, model, encoder);
    assert.equal(again.sha256, baseRef.sha256, 'the same starting weights are one artifact');
    const frozen = frozenParameters(names, ['embeddings', 'layers.0-1']);
    const objective = encoderObjective(tf, model, { labelSmoothing: 0 }, frozen);
    const optimizer = new AdamW(tf, objective.params, ADAMW_DEFAULTS);
    for (let step = 0; step < 2; step++) trainStep(tf, objective, optimizer, batch(step), 1e-2, step);
    const position = { step: 2, epoch: 0, batchInEpoch: 2, seed: 4 };
    const base = { sha256: baseRef.sha256, tensors: encoder };
    const full = await saveCheckpoint(store, model, optimizer, position);
    const slim = await saveCheckpoint(store, model, optimizer, position, {
      base,
      provenance: { parents: ['ab'.repeat(32)] },
    });
    const frozenBytes = [...frozen].reduce((n, name) => n + 4 * model.params.get(name)!.size, 0);
    assert.ok(frozenBytes > 0);
    // The frozen parameters' values are what the slim checkpoint leaves out (manifests differ by a little).
    assert.ok(
      Math.abs(full.bytes - slim.bytes - frozenBytes) < 2048,
      `${full.bytes} - ${slim.bytes} vs ${frozenBytes}`,
    );
    const file = await readCheckpoint(store, slim);
    assert.deepEqual(
      [...(file.manifest.base?.tensors ?? [])].sort(),
      [...frozen].sort(),
      'only never-trained parameters are referred to',
    );
    const meta = await store.metadata(slim.sha256);
    assert.deepEqual(
      meta?.provenance.parents,
      ['ab'.repeat(32), baseRef.sha256],
      'the base is a parent, so gc keeps it',
    );
    const restoredOptimizer = new AdamW(
      tf,
      encoderObjective(tf, rebuilt, { labelSmoothing: 0 }, frozen).params,
      ADAMW_DEFAULTS,
    );
    restoreFrom(tf, file, rebuilt, restoredOptimizer);
    for (const name of names)
      assert.deepEqual(
        rebuilt.params.get(name)!.dataSync(),
        model.params.get(name)!.dataSync(),
        `${name} is rebuilt exactly`,
      );
    restoredOptimizer.dispose();
    optimizer.dispose();

    // Base weights that are gone or damaged make the checkpoint unreadable, saying so.
    writeFileSync(join(dir, 'objects', baseRef.sha256.slice(0, 2), baseRef.sha256), 'damaged');
    await assert.rejects(readCheckpoint(store, slim), new RegExp(`${baseRef.sha256}.*corrupt`));
  } finally {
    model.dispose();
    rebuilt.dispose();
  }
});

test('layer-wise decay and a head rate scale each parameter group’s Adam step', () => {
  const model = new EncoderModel(tf, BERT, classification.head, 2);
  const names = [...model.params.keys()];
  const scales = learningRateScales(names, { layers: 3, layerDecay: 0.5, headScale: 10 });
  const byGroup = new Map(names.map((n) => [parameterGroup(n), scales.get(n)]));
  assert.deepEqual(Object.fromEntries(byGroup), {
    embeddings: 0.0625,
    'layers.0': 0.125,
    'layers.1': 0.25,
    'layers.2': 0.5,
    pooler: 1,
    head: 10,
  });
  const objective = encoderObjective(tf, model, { labelSmoothing: 0 });
  const stepOf = (lrScales?: Map<string, number>) => {
    const start = new Map([...model.params].map(([n, v]) => [n, tf.clone(v)]));
    const optimizer = new AdamW(tf, model.params, { ...ADAMW_DEFAULTS, ...(lrScales && { lrScales }) });
    trainStep(tf, objective, optimizer, batch(0), 1e-3, 0);
    const delta = new Map(
      [...model.params].map(([n, v]) => [n, Array.from(tf.sub(v, start.get(n)!).dataSync())] as const),
    );
    for (const [n, v] of model.params) v.assign(start.get(n)!);
    tf.dispose([...start.values()]);
    optimizer.dispose();
    return delta;
  };
  try {
    const plain = stepOf();
    const scaled = stepOf(scales);
    for (const name of ['embedding/tokens', 'layer0/ffn/in/kernel', 'layer2/attention/o/bias', 'head/kernel']) {
      const s = scales.get(name)!;
      const worst = Math.max(...plain.get(name)!.map((d, i) => Math.abs(d * s - scaled.get(name)![i]!)));
      assert.ok(worst < 1e-7 * Math.max(1, s), `${name}: the step is ${s}× the plain one (off by ${worst})`);
    }
  } finally {
    model.dispose();
  }
});
