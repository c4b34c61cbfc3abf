import type * as Tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../../spec/types';
import type { ArtifactProvenance, ArtifactStore } from '../../store/artifact-store';
import type { TrainTask } from '../../spec/metrics';
import type { EncoderConfig } from '../models/encoder-config';
import type { Parameters } from '../models/encoder-model';
import type { AdamW } from './adamw';
import type { LrSchedule } from './lr-schedule';

/** Where training stands: enough, with the weights and optimizer slots, to continue exactly. */
export interface TrainingPosition {
  /** Optimizer updates applied so far. */
  readonly step: number;
  readonly epoch: number;
  /** Batches of `epoch` already trained on. */
  readonly batchInEpoch: number;
  readonly seed: number;
  /** Sum of the training losses of `epoch` so far, so a resumed epoch reports the same mean loss. */
  readonly epochLossSum?: number;
  readonly schedule?: LrSchedule;
}

/** A model as a checkpoint sees it: its architecture and its variables by name. */
export interface CheckpointedModel {
  readonly config: EncoderConfig;
  readonly params: Parameters;
}

/** What a checkpoint says about itself besides its tensors. */
export interface CheckpointManifest {
  readonly format: 'pipewright-checkpoint';
  readonly version: 1;
  /** The task the model was trained for; absent in checkpoints of classifiers made before tasks had names. */
  readonly task?: TrainTask;
  readonly config: EncoderConfig;
  readonly position: TrainingPosition;
  /** The names of the model's classes by id: labels, or tags for token classification. */
  readonly labels?: readonly string[];
  /** The parameters the optimizer slots cover, in slot order; absent: all of them (nothing was frozen). */
  readonly trained?: readonly string[];
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

export interface SaveOptions {
  readonly task?: TrainTask;
  readonly labels?: readonly string[];
  readonly provenance?: ArtifactProvenance;
}

/** Saves weights, optimizer slots and position as one `checkpoint` artifact (atomic, addressed by its SHA-256). */
export function saveCheckpoint(
  store: ArtifactStore,
  model: CheckpointedModel,
  optimizer: AdamW,
  position: TrainingPosition,
  options: SaveOptions = {},
): Promise<ArtifactRef> {
  const variables = [...model.params, ...optimizer.slots];
  const tensors: CheckpointManifest['tensors'][number][] = [];
  let offset = 0;
  for (const [name, v] of variables) {
    tensors.push({ name, shape: v.shape, offset, length: v.size });
    offset += v.size;
  }
  const manifest: CheckpointManifest = {
    format: 'pipewright-checkpoint',
    version: 1,
    ...(options.task && { task: options.task }),
    config: model.config,
    position: { ...position, step: optimizer.step },
    ...(options.labels && { labels: options.labels }),
    ...(optimizer.names.length < model.params.size && { trained: optimizer.names }),
    tensors,
  };
  return store.write(
    {
      kind: 'checkpoint',
      meta: {
        step: optimizer.step,
        epoch: position.epoch,
        batchInEpoch: position.batchInEpoch,
        ...(options.task && { task: options.task }),
        ...(options.labels && { labels: options.labels }),
      },
      ...(options.provenance && { provenance: options.provenance }),
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

/** A checkpoint read into memory (its digest verified): the manifest and every tensor's values. */
export interface CheckpointFile {
  readonly ref: ArtifactRef;
  readonly manifest: CheckpointManifest;
  readonly values: Float32Array;
}

/** Reads and verifies a checkpoint artifact. */
export async function readCheckpoint(store: ArtifactStore, ref: ArtifactRef): Promise<CheckpointFile> {
  const bytes = await readFile(await store.localPath(ref));
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new CheckpointError(`artifact ${ref.sha256} is not a Pipewright checkpoint`);
  const headLength = bytes.readUInt32LE(MAGIC.length);
  const manifest = JSON.parse(
    bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headLength).toString('utf8'),
  ) as CheckpointManifest;
  const body = bytes.subarray(MAGIC.length + 4 + headLength);
  const values = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return { ref, manifest, values };
}

/**
 * Loads a checkpoint into a model (and optimizer) of the same shape; nothing is assigned unless
 * every tensor fits. Returns the training position it was saved at.
 */
export function restoreFrom(
  tf: typeof Tf,
  file: CheckpointFile,
  model: CheckpointedModel,
  optimizer?: AdamW,
): TrainingPosition {
  const { manifest, values, ref } = file;
  if (JSON.stringify(manifest.config) !== JSON.stringify(model.config)) {
    throw new CheckpointError(
      `checkpoint ${ref.sha256.slice(0, 12)} was made for another model: ${JSON.stringify(manifest.config)}`,
    );
  }
  const saved = new Map(manifest.tensors.map((t) => [t.name, t]));
  const fits = (name: string, size: number) => {
    const t = saved.get(name);
    if (!t || t.length !== size || t.offset + t.length > values.length)
      throw new CheckpointError(`checkpoint tensor ${name} does not fit the model`);
    return t;
  };
  const params = [...model.params].map(([name, v]) => {
    const t = fits(name, v.size);
    return [v, values.subarray(t.offset, t.offset + t.length)] as const;
  });
  const savedTrained = manifest.trained ?? manifest.tensors.filter((t) => model.params.has(t.name)).map((t) => t.name);
  const slots = [...(optimizer?.slots ?? [])].map(([name, v]) => {
    const t = saved.get(name);
    if (!t) throw new CheckpointError(`checkpoint ${ref.sha256.slice(0, 12)} has no optimizer slot ${name}`);
    const slot = values.subarray(t.offset, t.offset + t.length);
    if (JSON.stringify(savedTrained) === JSON.stringify(optimizer!.names)) {
      fits(name, v.size);
      return [v, slot] as const;
    }
    return [v, regroupSlot(slot, savedTrained, optimizer!, model)] as const;
  });
  // Everything fits: only now is anything assigned.
  tf.tidy(() => {
    for (const [v, data] of [...params, ...slots]) v.assign(tf.tensor(data, v.shape, 'float32'));
  });
  if (optimizer) optimizer.step = manifest.position.step;
  return manifest.position;
}

/**
 * A flat optimizer slot saved for one set of trained parameters, laid out for the optimizer's set
 * (after gradual unfreezing added parameters): each parameter keeps its saved moments, a newly
 * trained one starts at zero.
 */
function regroupSlot(
  slot: Float32Array,
  savedTrained: readonly string[],
  optimizer: AdamW,
  model: CheckpointedModel,
): Float32Array {
  const sizeOf = (name: string) => model.params.get(name)!.size;
  const savedAt = new Map<string, number>();
  let offset = 0;
  for (const name of savedTrained) {
    savedAt.set(name, offset);
    offset += sizeOf(name);
  }
  if (offset !== slot.length) throw new CheckpointError(`an optimizer slot holds ${slot.length} values, not ${offset}`);
  const out = new Float32Array(optimizer.names.reduce((n, name) => n + sizeOf(name), 0));
  let at = 0;
  for (const name of optimizer.names) {
    const from = savedAt.get(name);
    if (from !== undefined) out.set(slot.subarray(from, from + sizeOf(name)), at);
    at += sizeOf(name);
  }
  return out;
}

/** Reads a checkpoint (verifying its digest) and loads it into a model and optimizer of the same shape. */
export async function restoreCheckpoint(
  tf: typeof Tf,
  store: ArtifactStore,
  ref: ArtifactRef,
  model: CheckpointedModel,
  optimizer: AdamW,
): Promise<TrainingPosition> {
  return restoreFrom(tf, await readCheckpoint(store, ref), model, optimizer);
}
