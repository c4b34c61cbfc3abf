import type * as Tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../../spec/types';
import type { ArtifactProvenance, ArtifactStore } from '../../store/artifact-store';
import type { EncoderClassifier } from '../models/encoder-classifier';
import type { EncoderConfig } from '../models/encoder-config';
import type { AdamW } from './adamw';

/** Where training stands: enough, with the weights and optimizer slots, to continue exactly. */
export interface TrainingPosition {
  /** Optimizer updates applied so far. */
  readonly step: number;
  readonly epoch: number;
  /** Batches of `epoch` already trained on. */
  readonly batchInEpoch: number;
  readonly seed: number;
}

interface Manifest {
  readonly format: 'pipewright-checkpoint';
  readonly version: 1;
  readonly config: EncoderConfig;
  readonly position: TrainingPosition;
  readonly tensors: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly offset: number;
    readonly length: number;
  }[];
}

/** A checkpoint file that cannot be used: wrong format, or made for another model shape. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const MAGIC = Buffer.from('PWCKPT01');

/** Saves weights, optimizer slots and position as one `checkpoint` artifact (atomic, addressed by its SHA-256). */
export function saveCheckpoint(
  store: ArtifactStore,
  model: EncoderClassifier,
  optimizer: AdamW,
  position: TrainingPosition,
  provenance?: ArtifactProvenance,
): Promise<ArtifactRef> {
  const variables = [...model.params, ...optimizer.slots];
  const tensors: Manifest['tensors'][number][] = [];
  let offset = 0;
  for (const [name, v] of variables) {
    tensors.push({ name, shape: v.shape, offset, length: v.size });
    offset += v.size;
  }
  const manifest: Manifest = {
    format: 'pipewright-checkpoint',
    version: 1,
    config: model.config,
    position: { ...position, step: optimizer.step },
    tensors,
  };
  return store.write(
    {
      kind: 'checkpoint',
      meta: { step: optimizer.step, epoch: position.epoch, batchInEpoch: position.batchInEpoch },
      ...(provenance && { provenance }),
    },
    async (out) => {
      const head = Buffer.from(JSON.stringify(manifest));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(head.length);
      out.write(Buffer.concat([MAGIC, length, head]));
      for (const [, v] of variables) {
        const data = (await v.data()) as Float32Array;
        out.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      }
    },
  );
}

/** Reads a checkpoint (verifying its digest) and loads it into a model and optimizer of the same shape. */
export async function restoreCheckpoint(
  tf: typeof Tf,
  store: ArtifactStore,
  ref: ArtifactRef,
  model: EncoderClassifier,
  optimizer: AdamW,
): Promise<TrainingPosition> {
  const bytes = await readFile(await store.localPath(ref));
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new CheckpointError(`artifact ${ref.sha256} is not a Pipewright checkpoint`);
  const headLength = bytes.readUInt32LE(MAGIC.length);
  const manifest = JSON.parse(
    bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headLength).toString('utf8'),
  ) as Manifest;
  if (JSON.stringify(manifest.config) !== JSON.stringify(model.config)) {
    throw new CheckpointError(
      `checkpoint ${ref.sha256.slice(0, 12)} was made for another model: ${JSON.stringify(manifest.config)}`,
    );
  }
  const body = bytes.subarray(MAGIC.length + 4 + headLength);
  const values = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  const targets = new Map([...model.params, ...optimizer.slots]);
  if (targets.size !== manifest.tensors.length)
    throw new CheckpointError(
      `checkpoint holds ${manifest.tensors.length} tensors, the model and optimizer ${targets.size}`,
    );
  tf.tidy(() => {
    for (const t of manifest.tensors) {
      const target = targets.get(t.name);
      if (!target || target.size !== t.length)
        throw new CheckpointError(`checkpoint tensor ${t.name} does not fit the model`);
      target.assign(tf.tensor(values.subarray(t.offset, t.offset + t.length), [...t.shape], 'float32'));
    }
  });
  optimizer.step = manifest.position.step;
  return manifest.position;
}
