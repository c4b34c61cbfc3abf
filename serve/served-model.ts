import type * as Tf from '@tensorflow/tfjs';
import type { Instance, PredictRequest } from '../ml/tasks/task';
import type { ArtifactStore } from '../store/artifact-store';
import type { ModelRegistry } from '../store/model-registry';
import type { ChatModel } from '../ml/tasks/task';
import { ChatScheduler } from './chat-scheduler';
import { MicroBatcher, type BatchingOptions } from './micro-batcher';
import { ServedVersion } from './served-version';

/** What a prediction call returns: the answers (shaped by the model's task) and the version that gave them. */
export interface Answer {
  readonly version: number;
  readonly predictions: readonly object[];
}

/**
 * One model name being served. It follows the registry: when another version is deployed (or
 * rolled back to), the new one is loaded in the background and swapped in between two batches, so
 * no request fails or waits on the load; the old one is freed after its last batch.
 */
export class ServedModel {
  private active: ServedVersion | undefined;
  private loading: Promise<void> | undefined;
  /** Versions swapped out, freed before the next batch (batches run one at a time). */
  private readonly retire: ServedVersion[] = [];
  private readonly batcher: MicroBatcher<PredictRequest, { version: number; prediction: object }>;
  /** Chat requests to a generating model, decoded together. */
  readonly chats: ChatScheduler;
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
    this.chats = new ChatScheduler(() => {
      const served = this.active;
      return served?.chat && { chat: served.chat, version: served.version.version };
    }, batching);
  }

  /** The conversation side of the version being served, when it generates text. */
  get chat(): ChatModel | undefined {
    return this.active?.chat;
  }

  get version(): number | undefined {
    return this.active?.version.version;
  }

  get labels(): readonly string[] {
    return this.active?.labels ?? [];
  }

  /** The task of the version being served. */
  get task(): string | undefined {
    return this.active?.task;
  }

  /** Loads the deployed version if it is not the one being served; returns when done. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** The text fields an instance has for the version being served. */
  get instanceFields(): readonly string[] {
    return this.active?.instanceFields ?? ['text'];
  }

  /** Answers instances in a micro-batch; throws InvalidInstanceError, before batching, for one the version cannot answer. */
  async predict(instances: readonly Instance[], topK: number): Promise<Answer> {
    for (const instance of instances) this.active?.check(instance);
    const results = await this.batcher.submit(instances.map((instance) => ({ instance, topK })));
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
      const next = await ServedVersion.load(this.tf, this.store, deployed);
      const previous = this.active;
      // The swap is one assignment; a batch already running keeps the version it started with.
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

  private runBatch(items: PredictRequest[]): { version: number; prediction: object }[] {
    const served = this.active;
    if (!served) throw new Error(`model "${this.name}" has no deployed version loaded`);
    // Versions replaced before this batch started are no longer used by any batch.
    for (const old of this.retire.splice(0)) old.dispose();
    return served.predict(items).map((prediction) => ({ version: served.version.version, prediction }));
  }
}
