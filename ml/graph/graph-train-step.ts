import type * as Tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncoderClassifier } from '../models/encoder-classifier';
import { buildTrainingGraph, type TrainingGraph } from './encoder-graph';

/** tfjs-node's SavedModel calls (not in tfjs's public types). */
interface SessionBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: Tf.Tensor[], infos: { name: string }[], outputs: string[]): Tf.Tensor[];
}

interface Session {
  readonly id: number;
  readonly graph: TrainingGraph;
}

/** Loaded graphs by model configuration and batch shape; they depend on nothing else. */
const sessions = new Map<string, Session>();

/** The loss and every parameter's gradient for one batch. */
export interface GraphStepResult {
  readonly loss: Tf.Scalar;
  readonly grads: Record<string, Tf.Tensor>;
}

/** What `runTrainingGraph` needs of a batch besides the model. */
export interface GraphBatch {
  readonly ids: Tf.Tensor2D;
  readonly mask: Tf.Tensor2D;
  /** Label-smoothed one-hot targets [batch, classes]. */
  readonly targets: Tf.Tensor2D;
  /** Each example's share of the loss [batch]. */
  readonly weights: Tf.Tensor1D;
  readonly dropoutSeed: number;
}

/** Whether training steps can run as a TensorFlow graph: only on the native backend. */
export function graphTrainingAvailable(tf: typeof Tf): boolean {
  return tf.getBackend() === 'tensorflow';
}

/**
 * Forward, loss and backward of `model` for one batch as one TensorFlow session call (the graph
 * of ml/graph/encoder-graph.ts, built and loaded once per configuration and batch shape).
 */
export function runTrainingGraph(tf: typeof Tf, model: EncoderClassifier, batch: GraphBatch): GraphStepResult {
  const [size, length] = batch.ids.shape;
  const session = sessionFor(tf, model, size, length);
  const backend = tf.backend() as unknown as SessionBackend;
  const names = [...model.params.keys()];
  const seed = tf.scalar(batch.dropoutSeed | 0, 'int32');
  const positions = model.positionEncodings(length);
  const inputs = [
    ...names.map((name) => model.params.get(name)!),
    batch.ids,
    batch.mask,
    batch.targets,
    batch.weights,
    seed,
    positions,
  ];
  const outputs = backend.runSavedModel(
    session.id,
    inputs,
    session.graph.inputs.map((name) => ({ name: `${name}:0` })),
    session.graph.outputs.map((name) => `${name}:0`),
  );
  seed.dispose();
  positions.dispose();
  const [loss, ...grads] = outputs;
  return {
    loss: loss as Tf.Scalar,
    grads: Object.fromEntries(names.map((name, i) => [name, grads[i]!])),
  };
}

function sessionFor(tf: typeof Tf, model: EncoderClassifier, size: number, length: number): Session {
  const params = new Map([...model.params].map(([name, v]) => [name, v.shape]));
  const key = JSON.stringify([model.config, size, length, [...params]]);
  let session = sessions.get(key);
  if (!session) {
    const graph = buildTrainingGraph(model.config, size, length, params);
    const backend = tf.backend() as unknown as SessionBackend;
    session = { id: backend.loadSavedModelMetaGraph(savedModelDir(graph.savedModel), 'serve'), graph };
    sessions.set(key, session);
  }
  return session;
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
