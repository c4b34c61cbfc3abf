import type * as Tf from '@tensorflow/tfjs';
import type { TrainTask } from '../core/metrics';
import { loadCheckpointModel } from '../ml/tasks/checkpoint-model';
import type { ChatModel, Instance, PredictRequest, TextPredictor } from '../ml/tasks/task';
import { loadTokenizer } from '../ml/tokenizers/tokenizer-file';
import type { ArtifactStore } from '../store/artifact-store';
import type { ModelVersion } from '../store/model-registry';
import { warmUpGraphs } from './graph-warm-up';

/**
 * One registry version ready to answer texts: its tokenizer and model, and the predictor of the
 * task it was trained for (labels with probabilities, or entity spans).
 */
export class ServedVersion {
  private constructor(
    readonly version: ModelVersion,
    readonly task: TrainTask,
    readonly labels: readonly string[],
    /** The text fields an instance of this version's task has (`text`, or `question` and `context`). */
    readonly instanceFields: readonly string[],
    private readonly predictor: TextPredictor,
    private readonly release: () => void,
  ) {}

  static async load(tf: typeof Tf, store: ArtifactStore, version: ModelVersion): Promise<ServedVersion> {
    const tokenizer = await loadTokenizer(store, version.tokenizer);
    const { model, task, labels, settings } = await loadCheckpointModel(tf, store, version.checkpoint);
    try {
      const predictor = task.createPredictor(tf, model, tokenizer, labels, settings);
      warmUpGraphs(tf, model);
      return new ServedVersion(version, task.name, labels, task.instanceFields, predictor, () => model.dispose());
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  /** Answers instances in one forward pass (padded to the longest, at most the model's length). */
  predict(requests: readonly PredictRequest[]): object[] {
    return this.predictor.predict(requests);
  }

  /** Throws InvalidInstanceError for an instance this version cannot answer. */
  check(instance: Instance): void {
    this.predictor.check?.(instance);
  }

  /** The conversation side of a generating model; undefined for the other tasks. */
  get chat(): ChatModel | undefined {
    return this.predictor.chat;
  }

  describe(instance: Instance, prediction: object): string {
    return this.predictor.describe(instance, prediction);
  }

  dispose(): void {
    this.release();
  }
}
