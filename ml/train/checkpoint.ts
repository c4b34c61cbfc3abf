import type * as Tf from '@tensorflow/tfjs';
import { open } from 'node:fs/promises';
import type { ArtifactRef } from '../../core/artifacts';
import type { ArtifactProvenance, ArtifactStore } from '../../store/artifact-store';
import type { TrainTask } from '../../core/metrics';
import type { EncoderConfig } from '../models/encoder-config';
import type { Parameters } from '../models/encoder-model';
import { ADAM_SLOTS, type AdamW } from './adamw';
import type { LrSchedule } from './lr-schedule';
import { failureClass } from '../../core/failures';

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
  /** Train settings the task reads after training (Task.settingKeys), as the train step gave them. */
  readonly taskSettings?: Readonly<Record<string, unknown>>;
  /** The parameters the optimizer slots cover, in slot order; absent: all of them (nothing was frozen). */
  readonly trained?: readonly string[];
  /** Parameters not stored here but taken unchanged from base weights (pretrained, never trained). */
  readonly base?: CheckpointBase;
  readonly tensors: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly offset: number;
    readonly length: number;
  }[];
}

/**
 * Base weights a checkpoint refers to instead of storing them again: the digest of a base-weights
 * artifact (written by saveBaseWeights) and the parameters taken from it. A fine-tuning run whose
 * lower layers stay frozen stores those once, not in every checkpoint.
 */
export interface CheckpointBase {
  readonly sha256: string;
  readonly tensors: readonly string[];
}

/** A checkpoint file that cannot be used: wrong format, or made for another model shape. */
export class CheckpointError extends failureClass('CheckpointError') {}

const MAGIC = Buffer.from('PWCKPT01');

export interface SaveOptions {
  readonly task?: TrainTask;
  readonly labels?: readonly string[];
  readonly taskSettings?: Readonly<Record<string, unknown>>;
  readonly provenance?: ArtifactProvenance;
  /** Base weights holding the parameters' starting values; the untrained ones are taken from there. */
  readonly base?: CheckpointBase;
}

/**
 * Saves weights, optimizer slots and position as one `checkpoint` artifact (atomic, addressed by
 * its SHA-256). Parameters the optimizer does not train and the base holds are referred to, not
 * stored; the base becomes one of the checkpoint's parents.
 */
export function saveCheckpoint(
  store: ArtifactStore,
  model: CheckpointedModel,
  optimizer: AdamW,
  position: TrainingPosition,
  options: SaveOptions = {},
): Promise<ArtifactRef> {
  const trained = new Set(optimizer.names);
  const fromBase = (options.base?.tensors ?? []).filter((name) => model.params.has(name) && !trained.has(name));
  const stored = [...model.params].filter(([name]) => !fromBase.includes(name));
  const base = options.base && fromBase.length > 0 ? { sha256: options.base.sha256, tensors: fromBase } : undefined;
  const provenance = base
    ? { ...options.provenance, parents: [...(options.provenance?.parents ?? []), base.sha256] }
    : options.provenance;
  // The moments as tensors of their own, freed once the file is written.
  const slots = optimizer.slotValues();
  return writeCheckpointFile(
    store,
    {
      task: options.task,
      labels: options.labels,
      taskSettings: options.taskSettings,
      config: model.config,
      position: { ...position, step: optimizer.step },
      trained: optimizer.names.length < model.params.size ? optimizer.names : undefined,
      base,
    },
    [...stored, ...slots],
    {
      step: optimizer.step,
      epoch: position.epoch,
      batchInEpoch: position.batchInEpoch,
      ...(options.task && { task: options.task }),
      ...(options.labels && { labels: options.labels }),
    },
    provenance,
  ).finally(() => slots.forEach((slot) => slot.dispose()));
}

/**
 * Saves the given parameters of a model as base weights for its checkpoints to refer to: a
 * checkpoint-format artifact with no optimizer state, at step 0. Its bytes depend only on the
 * parameters' values, so every run starting from the same pretrained weights shares one copy.
 */
export function saveBaseWeights(
  store: ArtifactStore,
  model: CheckpointedModel,
  names: readonly string[],
  provenance?: ArtifactProvenance,
): Promise<ArtifactRef> {
  const variables = names.map((name) => {
    const v = model.params.get(name);
    if (!v) throw new CheckpointError(`the model has no parameter ${name} to keep as base weights`);
    return [name, v] as const;
  });
  return writeCheckpointFile(
    store,
    { config: model.config, position: { step: 0, epoch: 0, batchInEpoch: 0, seed: 0 } },
    variables,
    { base: true },
    provenance,
  );
}

type ManifestFields = Omit<CheckpointManifest, 'format' | 'version' | 'tensors'>;
type Optional<T> = { readonly [K in keyof T]?: T[K] | undefined };

function writeCheckpointFile(
  store: ArtifactStore,
  fields: Optional<ManifestFields> & Pick<ManifestFields, 'config' | 'position'>,
  variables: readonly (readonly [string, Tf.Tensor])[],
  meta: Readonly<Record<string, unknown>>,
  provenance: ArtifactProvenance | undefined,
): Promise<ArtifactRef> {
  const tensors: CheckpointManifest['tensors'][number][] = [];
  let offset = 0;
  for (const [name, v] of variables) {
    tensors.push({ name, shape: v.shape, offset, length: v.size });
    offset += v.size;
  }
  const manifest: CheckpointManifest = {
    format: 'pipewright-checkpoint',
    version: 1,
    ...(fields.task && { task: fields.task }),
    config: fields.config,
    position: fields.position,
    ...(fields.labels && { labels: fields.labels }),
    ...(fields.taskSettings && { taskSettings: fields.taskSettings }),
    ...(fields.trained && { trained: fields.trained }),
    ...(fields.base && { base: fields.base }),
    tensors,
  };
  return store.write({ kind: 'checkpoint', meta, ...(provenance && { provenance }) }, async (out) => {
    const head = Buffer.from(JSON.stringify(manifest));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(head.length);
    out.write(Buffer.concat([MAGIC, length, head]));
    for (const [, v] of variables) {
      const data = (await v.data()) as Float32Array;
      out.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
  });
}

/**
 * A checkpoint read into memory (its digest verified): the manifest and every tensor's values,
 * those taken from base weights included (the manifest lists them among its tensors).
 */
export interface CheckpointFile {
  readonly ref: ArtifactRef;
  readonly manifest: CheckpointManifest;
  readonly values: Float32Array;
}

/** Reads and verifies a checkpoint artifact, and the base weights it refers to. */
export async function readCheckpoint(store: ArtifactStore, ref: ArtifactRef): Promise<CheckpointFile> {
  const own = await readCheckpointBytes(store, ref);
  const base = own.manifest.base;
  if (!base) return { ref, ...own };
  const weights = await readCheckpointBytes(store, base);
  const byName = new Map(weights.manifest.tensors.map((t) => [t.name, t]));
  const taken = base.tensors.map((name) => {
    const t = byName.get(name);
    if (!t || t.offset + t.length > weights.values.length)
      throw new CheckpointError(
        `checkpoint ${ref.sha256.slice(0, 12)} takes ${name} from base weights ${base.sha256.slice(0, 12)}, which do not hold it`,
      );
    return t;
  });
  const values = new Float32Array(own.values.length + taken.reduce((n, t) => n + t.length, 0));
  values.set(own.values);
  let at = own.values.length;
  const tensors = [...own.manifest.tensors];
  for (const t of taken) {
    values.set(weights.values.subarray(t.offset, t.offset + t.length), at);
    tensors.push({ ...t, offset: at });
    at += t.length;
  }
  return { ref, manifest: { ...own.manifest, tensors }, values };
}

/** A checkpoint's manifest alone, without reading its tensors (the store verifies the file). */
export async function readCheckpointManifest(
  store: ArtifactStore,
  ref: Pick<ArtifactRef, 'sha256'>,
): Promise<CheckpointManifest> {
  const file = await open(await store.localPath(ref), 'r');
  try {
    const head = Buffer.alloc(MAGIC.length + 4);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (bytesRead < head.length || !head.subarray(0, MAGIC.length).equals(MAGIC))
      throw new CheckpointError(`artifact ${ref.sha256} is not a Pipewright checkpoint`);
    const json = Buffer.alloc(head.readUInt32LE(MAGIC.length));
    await file.read(json, 0, json.length, head.length);
    return JSON.parse(json.toString('utf8')) as CheckpointManifest;
  } finally {
    await file.close();
  }
}

async function readCheckpointBytes(
  store: ArtifactStore,
  ref: Pick<ArtifactRef, 'sha256'>,
): Promise<Pick<CheckpointFile, 'manifest' | 'values'>> {
  const bytes = await store.read(ref);
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new CheckpointError(`artifact ${ref.sha256} is not a Pipewright checkpoint`);
  const headLength = bytes.readUInt32LE(MAGIC.length);
  const manifest = JSON.parse(
    bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headLength).toString('utf8'),
  ) as CheckpointManifest;
  const body = bytes.subarray(MAGIC.length + 4 + headLength);
  const values = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return { manifest, values };
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
  const slots = new Map(
    optimizer
      ? ADAM_SLOTS.map((name) => {
          const t = saved.get(name);
          if (!t) throw new CheckpointError(`checkpoint ${ref.sha256.slice(0, 12)} has no optimizer slot ${name}`);
          const slot = values.subarray(t.offset, t.offset + t.length);
          if (JSON.stringify(savedTrained) === JSON.stringify(optimizer.names)) {
            fits(name, optimizer.slotSize);
            return [name, slot] as const;
          }
          return [name, regroupSlot(slot, savedTrained, optimizer, model)] as const;
        })
      : [],
  );
  // Everything fits: only now is anything assigned.
  tf.tidy(() => {
    for (const [v, data] of params) v.assign(tf.tensor(data, v.shape, 'float32'));
  });
  optimizer?.loadSlots(slots);
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
