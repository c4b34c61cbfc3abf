import type * as Tf from '@tensorflow/tfjs';
import type { AdamW } from './adamw';

/**
 * What the trainer needs of a model being trained on batches of type B, whatever the task: its
 * parameters and its loss. The model computes its own loss (the task's head and loss function);
 * the trainer never names a model.
 */
export interface Trainable<B> {
  readonly params: ReadonlyMap<string, Tf.Variable>;
  /** The batch's loss as TensorFlow.js ops, for TensorFlow.js to differentiate. */
  loss(batch: B, dropoutSeed: number): Tf.Scalar;
  /**
   * The loss, every gradient concatenated in parameter order, and their global norm from one
   * TensorFlow graph call, where the backend runs graphs (ml/graph/); undefined elsewhere.
   */
  graphGradients(batch: B, dropoutSeed: number): GraphGradients | undefined;
}

export interface GraphGradients {
  readonly loss: Tf.Scalar;
  readonly flatGrad: Tf.Tensor1D;
  readonly gradNorm: Tf.Scalar;
}

export interface StepOutcome {
  readonly loss: number;
  readonly gradNorm: number;
}

/**
 * Forward, backward and one optimizer update; every tensor made here is freed before it returns.
 * On the native backend forward and backward run as one TensorFlow graph, elsewhere as
 * TensorFlow.js ops differentiated by TensorFlow.js; both compute the same loss and gradients.
 */
export function trainStep<B>(
  tf: typeof Tf,
  model: Trainable<B>,
  optimizer: AdamW,
  batch: B,
  lr: number,
  dropoutSeed: number,
): StepOutcome {
  const graph = model.graphGradients(batch, dropoutSeed);
  if (graph) {
    try {
      const norm = graph.gradNorm.dataSync()[0]!;
      optimizer.applyFlat(graph.flatGrad, norm, lr);
      return { loss: graph.loss.dataSync()[0]!, gradNorm: norm };
    } finally {
      tf.dispose([graph.loss, graph.flatGrad, graph.gradNorm]);
    }
  }
  const { value, grads } = tf.variableGrads(() => model.loss(batch, dropoutSeed), [...model.params.values()]);
  const byName: Record<string, Tf.Tensor> = {};
  for (const [name, v] of model.params) if (grads[v.name]) byName[name] = grads[v.name]!;
  const gradNorm = optimizer.apply(byName, lr);
  const lossValue = value.dataSync()[0]!;
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  return { loss: lossValue, gradNorm };
}
