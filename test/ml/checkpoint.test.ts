import type * as Tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBackend } from '../../ml/backend/load-backend';
import { EncoderModel } from '../../ml/models/encoder-model';
import type { EncoderConfig } from '../../ml/models/encoder-config';
import { AdamW, ADAMW_DEFAULTS } from '../../ml/train/adamw';
import { CheckpointError, restoreCheckpoint, saveCheckpoint } from '../../ml/train/checkpoint';
import { classification } from '../../ml/tasks/classification';
import { encoderObjective, type EncoderBatch } from '../../ml/tasks/encoder-objective';
import { trainStep } from '../../ml/train/train-step';
import { ArtifactIntegrityError, FileArtifactStore } from '../../store/artifact-store';

let tf: typeof Tf;
const dir = mkdtempSync(join(tmpdir(), 'pipewright-ckpt-'));
const store = new FileArtifactStore(dir);
before(async () => {
  tf = (await loadBackend()).tf;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: EncoderConfig = {
  vocabSize: 40,
  maxLength: 6,
  layers: 1,
  hidden: 8,
  heads: 2,
  ffn: 16,
  dropout: 0.1,
  activation: 'gelu',
  positional: 'learned',
  pooling: 'first',
  classes: 2,
};

function batch(step: number): EncoderBatch {
  const ids = Int32Array.from({ length: 24 }, (_, i) => 1 + ((i * 5 + step * 3) % 39));
  return {
    ids,
    mask: new Int32Array(24).fill(1),
    labels: Int32Array.from({ length: 4 }, (_, i) => (i + step) % 2),
    size: 4,
    length: 6,
  };
}

function train(model: EncoderModel, optimizer: AdamW, from: number, to: number): void {
  for (let step = from; step < to; step++)
    trainStep(tf, encoderObjective(tf, model, { labelSmoothing: 0 }), optimizer, batch(step), 1e-2, step);
}

const snapshot = (model: EncoderModel) => [...model.params.values()].map((v) => Array.from(v.dataSync()));

test('stopping at a checkpoint and resuming gives bitwise the weights of never having stopped', async () => {
  const straight = new EncoderModel(tf, CONFIG, classification.head, 7);
  const straightOpt = new AdamW(tf, straight.params, ADAMW_DEFAULTS);
  train(straight, straightOpt, 0, 10);

  const first = new EncoderModel(tf, CONFIG, classification.head, 7);
  const firstOpt = new AdamW(tf, first.params, ADAMW_DEFAULTS);
  train(first, firstOpt, 0, 5);
  const ref = await saveCheckpoint(store, first, firstOpt, { step: 5, epoch: 0, batchInEpoch: 5, seed: 7 });
  first.dispose();
  firstOpt.dispose();

  // A fresh process would build the model from another seed; the checkpoint must overwrite all of it.
  const resumed = new EncoderModel(tf, CONFIG, classification.head, 999);
  const resumedOpt = new AdamW(tf, resumed.params, ADAMW_DEFAULTS);
  const position = await restoreCheckpoint(tf, store, ref, resumed, resumedOpt);
  assert.deepEqual(position, { step: 5, epoch: 0, batchInEpoch: 5, seed: 7 });
  train(resumed, resumedOpt, position.step, 10);
  assert.deepEqual(snapshot(resumed), snapshot(straight));
  [straight, resumed].forEach((m) => m.dispose());
  [straightOpt, resumedOpt].forEach((o) => o.dispose());
});

test('a corrupted checkpoint, or one for another model, is refused', async () => {
  const model = new EncoderModel(tf, CONFIG, classification.head, 1);
  const optimizer = new AdamW(tf, model.params, ADAMW_DEFAULTS);
  const ref = await saveCheckpoint(store, model, optimizer, { step: 0, epoch: 0, batchInEpoch: 0, seed: 1 });
  const other = new EncoderModel(tf, { ...CONFIG, hidden: 16 }, classification.head, 1);
  const otherOpt = new AdamW(tf, other.params, ADAMW_DEFAULTS);
  await assert.rejects(restoreCheckpoint(tf, store, ref, other, otherOpt), CheckpointError);
  const path = await store.localPath(ref);
  const bytes = readFileSync(path);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
  writeFileSync(path, bytes);
  await assert.rejects(restoreCheckpoint(tf, store, ref, model, optimizer), ArtifactIntegrityError);
  [model, other].forEach((m) => m.dispose());
  [optimizer, otherOpt].forEach((o) => o.dispose());
});
