import type * as Tf from '@tensorflow/tfjs';
import type { ArtifactStore } from '../store/artifact-store';
import type { ModelRegistry } from '../store/model-registry';
import { MicroBatcher, type BatchingOptions } from './micro-batcher';
import { TextClassifier, type ClassPrediction } from './text-classifier';

/** What a prediction call returns: the answers and the version that gave them. */
export interface Answer {
  readonly version: number;
  readonly predictions: readonly ClassPrediction[];
}

/**
 * One model name being served. It follows the registry: when another version is deployed (or
 * rolled back to), the new one is loaded in the background and swapped in between two batches, so
 * no request fails or waits on the load; the old one is freed after its last batch.
 */
export class ServedModel {
  private active: TextClassifier | undefined;
  private loading: Promise<void> | undefined;
  /** Classifiers swapped out, freed before the next batch (batches run one at a time). */
  private readonly retire: TextClassifier[] = [];
  private readonly batcher: MicroBatcher<
    { text: string; topK: number },
    { version: number; prediction: ClassPrediction }
  >;
  lastError: string | undefined;

  constructor(
    private readonly tf: typeof Tf,
    private readonly store: ArtifactStore,
    private readonly registry: ModelRegistry,
    readonly name: string,
    batching: BatchingOptions,
    private readonly log: (line: string) => void,
  ) {
    this.batcher = new MicroBatcher((items) => this.runBatch(items), batching);
  }

  get version(): number | undefined {
    return this.active?.version.version;
  }

  get labels(): readonly string[] {
    return this.active?.labels ?? [];
  }

  /** Loads the deployed version if it is not the one being served; returns when done. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  async predict(texts: readonly string[], topK: number): Promise<Answer> {
    const results = await this.batcher.submit(texts.map((text) => ({ text, topK })));
    return { version: results[0]!.version, predictions: results.map((r) => r.prediction) };
  }

  dispose(): void {
    this.active?.dispose();
    this.active = undefined;
  }

  private async load(): Promise<void> {
    try {
      const deployed = await this.registry.current(this.name);
      if (!deployed || deployed.version === this.active?.version.version) return;
      const next = await TextClassifier.load(this.tf, this.store, deployed);
      const previous = this.active;
      // The swap is one assignment; a batch already running keeps the classifier it started with.
      this.active = next;
      this.lastError = undefined;
      this.log(
        `${this.name}: serving version ${deployed.version}${previous ? ` (was ${previous.version.version})` : ''}`,
      );
      if (previous) this.retire.push(previous);
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.log(`${this.name}: could not load the deployed version: ${this.lastError}`);
    }
  }

  private runBatch(items: { text: string; topK: number }[]): { version: number; prediction: ClassPrediction }[] {
    const classifier = this.active;
    if (!classifier) throw new Error(`model "${this.name}" has no deployed version loaded`);
    // Classifiers replaced before this batch started are no longer used by any batch.
    for (const old of this.retire.splice(0)) old.dispose();
    const topK = Math.max(...items.map((i) => i.topK));
    const predictions = classifier.classify(
      items.map((i) => i.text),
      topK,
    );
    return predictions.map((prediction, i) => ({
      version: classifier.version.version,
      prediction: { ...prediction, top_k: prediction.top_k.slice(0, items[i]!.topK) },
    }));
  }
}
