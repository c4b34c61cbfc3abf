import type * as Tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intraOpThreads } from '../backend/load-backend';
import type { DecoderCache, Memory } from '../models/decoder';
import type { EncoderModel } from '../models/encoder-model';
import { buildDecoderStepGraph, buildMemoryGraph } from './decoder-graph';
import { buildEncoderGraph, SMALL_ATTENTION_SCORES, type GraphKind } from './encoder-graph';

/** tfjs-node's SavedModel calls (not in tfjs's public types). */
interface SessionBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: Tf.Tensor[], infos: { name: string }[], outputs: string[]): Tf.Tensor[];
}

interface Session {
  readonly id: number;
  /** Placeholder names in feed order. */
  readonly inputs: readonly string[];
  /** The parameters fed first, in order (encoder graphs: all of them, in the model's order). */
  readonly parameters: readonly string[];
}

/**
 * Loaded graphs by model configuration, head, parameter shapes, kind and trained parameters: they
 * depend on nothing else (batch size and length are dynamic), so a process holds per model
 * architecture at most two inference graphs (small calls and the rest), a memory and a
 * decoding-step graph, and one training graph per frozen set.
 */
const sessions = new Map<string, Session>();

/** What a training graph needs of a batch besides the model. */
export interface GraphBatch {
  readonly ids: Tf.Tensor2D;
  readonly mask: Tf.Tensor2D;
  /** Token type ids [batch, length]; absent, all 0. */
  readonly types?: Tf.Tensor2D;
  /** An encoder-decoder model's target-side token ids [batch, target length]. */
  readonly decoderIds?: Tf.Tensor2D;
  /** Label-smoothed one-hot targets [rows, classes], one row per row of the head's logits. */
  readonly targets: Tf.Tensor2D;
  /** Each row's share of the loss [rows]. */
  readonly weights: Tf.Tensor1D;
  readonly dropoutSeed: number;
}

/**
 * Whether the model runs as TensorFlow graphs: on the native CPU backend, unless
 * PIPEWRIGHT_TF_GRAPHS is `off` (then every op is launched on its own, as on the other backends).
 * tfjs-node-gpu keeps eager execution: tfjs-node hands a session its inputs through host memory,
 * which would copy every parameter off and back onto the GPU at each step.
 */
export function graphsAvailable(tf: typeof Tf): boolean {
  return (
    tf.getBackend() === 'tensorflow' &&
    (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice !== true &&
    process.env.PIPEWRIGHT_TF_GRAPHS !== 'off'
  );
}

/** The loss and the gradient of every trained parameter (by name; all by default) for one batch, in one session call. */
export function runTrainingGraph(
  tf: typeof Tf,
  model: EncoderModel,
  batch: GraphBatch,
  trained: readonly string[] = [...model.params.keys()],
): { loss: Tf.Scalar; grads: Record<string, Tf.Tensor> } {
  const names = trained;
  const [loss, ...grads] = runTraining(tf, model, batch, trained, ['loss', ...names.map((name) => `grad/${name}`)]);
  return { loss: loss as Tf.Scalar, grads: Object.fromEntries(names.map((name, i) => [name, grads[i]!])) };
}

/**
 * The loss, the trained parameters' gradients concatenated in the order of `trained` and their
 * global norm, for one batch in one session call: what AdamW.applyFlat takes, without
 * concatenating and reducing op by op.
 */
export function runTrainingGraphFlat(
  tf: typeof Tf,
  model: EncoderModel,
  batch: GraphBatch,
  trained: readonly string[],
): { loss: Tf.Scalar; flatGrad: Tf.Tensor1D; gradNorm: Tf.Scalar } {
  const [loss, flatGrad, gradNorm] = runTraining(tf, model, batch, trained, ['loss', 'flat_grad', 'grad_norm']);
  return { loss: loss as Tf.Scalar, flatGrad: flatGrad as Tf.Tensor1D, gradNorm: gradNorm as Tf.Scalar };
}

function runTraining(
  tf: typeof Tf,
  model: EncoderModel,
  batch: GraphBatch,
  trained: readonly string[],
  outputs: string[],
): Tf.Tensor[] {
  const seed = tf.scalar(batch.dropoutSeed | 0, 'int32');
  try {
    const session = sessionFor(tf, model, 'train', trained);
    return run(tf, model, session, batch, [batch.targets, batch.weights, seed], outputs);
  } finally {
    seed.dispose();
  }
}

/** The head's logits without dropout, in one session call (of the graph for calls of its size, unless `kind` says). */
export function runInferenceGraph(
  tf: typeof Tf,
  model: EncoderModel,
  inputs: FedInputs,
  kind: 'infer' | 'infer-small' = smallCall(model, inputs.ids) ? 'infer-small' : 'infer',
): Tf.Tensor2D {
  return run(tf, model, sessionFor(tf, model, kind, []), inputs, [], ['logits'])[0] as Tf.Tensor2D;
}

/**
 * Whether graphs built for small products serve any call: only where an op has more than one
 * thread (with one, oneDNN's kernels are the faster; see GraphKind).
 */
export function smallGraphsServe(): boolean {
  return intraOpThreads() > 1;
}

/** Whether a call on `ids` [batch, length] goes to a graph built for small products (SMALL_ATTENTION_SCORES). */
export function smallCall(model: EncoderModel, ids: Tf.Tensor2D): boolean {
  const [batch, length] = ids.shape;
  return smallGraphsServe() && batch * model.config.heads * length * length <= SMALL_ATTENTION_SCORES;
}

function run(
  tf: typeof Tf,
  model: EncoderModel,
  session: Session,
  { ids, mask, types, decoderIds }: FedInputs,
  extra: readonly Tf.Tensor[],
  outputs: readonly string[],
): Tf.Tensor[] {
  const made = types ? [] : [tf.zeros<Tf.Rank.R2>(ids.shape, 'int32')];
  const decoder = decoderIds
    ? [model.positionEncodings(decoderIds.shape[1]), model.causalBias(decoderIds.shape[1])]
    : [];
  try {
    return runGraph(
      tf,
      session.id,
      [
        ...session.parameters.map((name) => model.params.get(name)!),
        ids,
        mask,
        types ?? made[0]!,
        model.positionTable,
        ...(decoderIds ? [decoderIds, ...decoder] : []),
        ...extra,
      ],
      session.inputs,
      outputs,
    );
  } finally {
    tf.dispose([...made, ...decoder]);
  }
}

type FedInputs = Pick<GraphBatch, 'ids' | 'mask' | 'types' | 'decoderIds'>;

/** Loads a graph (a SavedModel from GraphBuilder.toSavedModel) into a TensorFlow session; returns the session's id. */
export function loadGraph(tf: typeof Tf, savedModel: Buffer): number {
  return (tf.backend() as unknown as SessionBackend).loadSavedModelMetaGraph(savedModelDir(savedModel), 'serve');
}

/** Runs a loaded graph: feeds `inputs` to the placeholders named `inputNames`, returns the named nodes' values. */
export function runGraph(
  tf: typeof Tf,
  session: number,
  inputs: readonly Tf.Tensor[],
  inputNames: readonly string[],
  outputs: readonly string[],
): Tf.Tensor[] {
  return (tf.backend() as unknown as SessionBackend).runSavedModel(
    session,
    [...inputs],
    inputNames.map((name) => ({ name: `${name}:0` })),
    outputs.map((name) => `${name}:0`),
  );
}

/** A decoding step's feeds besides the parameters (see buildDecoderStepGraph); tensors stay the caller's. */
export interface DecoderStepFeeds {
  readonly ids: Tf.Tensor2D;
  readonly positionIds: Tf.Tensor2D;
  readonly selfBias: Tf.Tensor4D;
  readonly cache: DecoderCache<Tf.Tensor>;
  readonly memory: Memory<Tf.Tensor>;
}

/** One decoding step in one session call: the last new token's logits and the grown cache. */
export function runDecoderStepGraph(
  tf: typeof Tf,
  model: EncoderModel,
  feeds: DecoderStepFeeds,
): { logits: Tf.Tensor2D; cache: DecoderCache<Tf.Tensor> } {
  const layers = model.config.decoderLayers ?? 0;
  const session = sessionFor(tf, model, 'decode', []);
  const blocks = [...Array(layers).keys()];
  const { cache, memory } = feeds;
  const [logits, ...grown] = runGraph(
    tf,
    session.id,
    [
      ...session.parameters.map((name) => model.params.get(name)!),
      feeds.ids,
      feeds.positionIds,
      // The whole table, as every graph takes it: the step graph reads the new tokens' rows.
      model.positionTable,
      feeds.selfBias,
      ...blocks.flatMap((l) => [cache.keys[l]!, cache.values[l]!]),
      ...blocks.flatMap((l) => [memory.keys[l]!, memory.values[l]!]),
      memory.bias,
      ...(model.config.tiedOutput ? [model.tokensTransposed] : []),
    ],
    session.inputs,
    ['logits', ...blocks.flatMap((l) => [`keys/${l}`, `values/${l}`])],
  );
  return {
    logits: logits as Tf.Tensor2D,
    cache: { keys: blocks.map((l) => grown[2 * l]!), values: blocks.map((l) => grown[2 * l + 1]!) },
  };
}

/** The source side of encoder-decoder decoding, for buildMemoryGraph; tensors stay the caller's. */
export interface MemoryFeeds {
  readonly ids: Tf.Tensor2D;
  readonly mask: Tf.Tensor2D;
}

/** The encoder's memory for decoding (encodeMemory) in one session call (of the graph for calls of its size, unless `kind` says). */
export function runMemoryGraph(
  tf: typeof Tf,
  model: EncoderModel,
  feeds: MemoryFeeds,
  kind: 'memory' | 'memory-small' = smallCall(model, feeds.ids) ? 'memory-small' : 'memory',
): Memory<Tf.Tensor> {
  const layers = model.config.decoderLayers ?? 0;
  const session = sessionFor(tf, model, kind, []);
  const blocks = [...Array(layers).keys()];
  const outputs = runGraph(
    tf,
    session.id,
    [...session.parameters.map((name) => model.params.get(name)!), feeds.ids, feeds.mask, model.positionTable],
    session.inputs,
    [...blocks.flatMap((l) => [`memory/keys/${l}`, `memory/values/${l}`]), 'memory_bias'],
  );
  return {
    keys: blocks.map((l) => outputs[2 * l]!),
    values: blocks.map((l) => outputs[2 * l + 1]!),
    bias: outputs[2 * layers]!,
  };
}

/** How many graphs this process has loaded. */
export function loadedGraphs(): number {
  return sessions.size;
}

/** The loaded graph of a kind; training graphs differ by the parameters they differentiate. */
function sessionFor(
  tf: typeof Tf,
  model: EncoderModel,
  kind: GraphKind | 'memory' | 'memory-small' | 'decode',
  trained: readonly string[],
): Session {
  const key = `${architectureKey(model)} ${JSON.stringify([kind, trained])}`;
  let session = sessions.get(key);
  if (!session) {
    const params = parameterShapes(model);
    const graph =
      kind === 'decode'
        ? buildDecoderStepGraph(model.config, params)
        : kind === 'memory' || kind === 'memory-small'
          ? buildMemoryGraph(model.config, params, kind === 'memory-small')
          : { ...buildEncoderGraph(model.config, model.head, params, kind, trained), parameters: [...params.keys()] };
    session = { id: loadGraph(tf, graph.savedModel), inputs: graph.inputs, parameters: graph.parameters };
    sessions.set(key, session);
  }
  return session;
}

/** A model's configuration, head and parameter shapes, which fix its graphs; worked out once per model (decoding asks at every step). */
const architectures = new WeakMap<EncoderModel, string>();

function architectureKey(model: EncoderModel): string {
  let key = architectures.get(model);
  if (key === undefined) {
    key = JSON.stringify([model.config, model.head.name, [...parameterShapes(model)]]);
    architectures.set(model, key);
  }
  return key;
}

function parameterShapes(model: EncoderModel): Map<string, number[]> {
  return new Map([...model.params].map(([name, v]) => [name, v.shape]));
}

/** Writes the SavedModel under the temporary directory, addressed by its content, once. */
function savedModelDir(savedModel: Buffer): string {
  const digest = createHash('sha256').update(savedModel).digest('hex').slice(0, 24);
  const dir = join(tmpdir(), 'pipewright-graphs', digest);
  if (!existsSync(join(dir, 'saved_model.pb'))) {
    mkdirSync(dir, { recursive: true });
    const partial = join(dir, `saved_model.pb.${process.pid}`);
    writeFileSync(partial, savedModel);
    renameSync(partial, join(dir, 'saved_model.pb'));
  }
  return dir;
}
