import type * as Tf from '@tensorflow/tfjs';
import type { EncoderModel } from '../ml/models/encoder-model';
import type { TextTokenizer } from '../ml/tokenizers/text-tokenizer';
import { loadTokenizer, tokenizerFromFile } from '../ml/tokenizers/tokenizer-file';
import { truncateIds } from '../ml/tokenizers/truncate';
import { loadCheckpointModel } from '../ml/tasks/checkpoint-model';
import type { ArtifactStore } from '../store/artifact-store';
import type { ModelVersion } from '../store/model-registry';

/** One classification answer: the label, its probability, and the k most likely labels. */
export interface ClassPrediction {
  readonly label: string;
  readonly probability: number;
  readonly top_k: readonly { readonly label: string; readonly probability: number }[];
}

/** A deployed text classifier: tokenizer, encoder and label names of one registry version. */
export class TextClassifier {
  private constructor(
    private readonly tf: typeof Tf,
    readonly version: ModelVersion,
    private readonly model: EncoderModel,
    private readonly tokenizer: TextTokenizer,
    readonly labels: readonly string[],
  ) {}

  static async load(tf: typeof Tf, store: ArtifactStore, version: ModelVersion): Promise<TextClassifier> {
    const tokenizer = tokenizerFromFile(await loadTokenizer(store, version.tokenizer));
    const { model, task, labels } = await loadCheckpointModel(tf, store, version.checkpoint);
    if (task.name !== 'classification') {
      model.dispose();
      throw new Error(
        `version ${version.version} is a ${task.name} model; this server answers classification models only`,
      );
    }
    return new TextClassifier(tf, version, model, tokenizer, labels);
  }

  /** Classifies texts in one forward pass (padded to the longest, at most the model's length). */
  classify(texts: readonly string[], topK: number): ClassPrediction[] {
    const { tf, model } = this;
    const max = model.config.maxLength;
    const encoded = texts.map((text) =>
      truncateIds(this.tokenizer.encodeWithSpecialTokens(text).ids, max, 'end', {
        ...(this.tokenizer.startId !== undefined && { start: this.tokenizer.startId }),
        ...(this.tokenizer.endId !== undefined && { end: this.tokenizer.endId }),
      }),
    );
    const length = Math.max(1, ...encoded.map((ids) => ids.length));
    const ids = new Int32Array(texts.length * length).fill(this.tokenizer.padId);
    const mask = new Int32Array(texts.length * length);
    encoded.forEach((row, r) => {
      ids.set(row, r * length);
      mask.fill(1, r * length, r * length + row.length);
    });
    const probabilities = tf.tidy(() => {
      const logits = model.logits(
        tf.tensor2d(ids, [texts.length, length], 'int32'),
        tf.tensor2d(mask, [texts.length, length], 'float32'),
        { training: false },
      );
      return tf.softmax(logits).dataSync() as Float32Array;
    });
    const k = Math.min(topK, this.labels.length);
    return texts.map((_, r) => {
      const row = Array.from(probabilities.subarray(r * this.labels.length, (r + 1) * this.labels.length));
      const ranked = row
        .map((probability, c) => ({ label: this.labels[c]!, probability }))
        .sort((a, b) => b.probability - a.probability);
      return { label: ranked[0]!.label, probability: ranked[0]!.probability, top_k: ranked.slice(0, k) };
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
