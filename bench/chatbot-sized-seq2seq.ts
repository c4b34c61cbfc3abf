import { writeFileSync } from 'node:fs';
import type { EncoderConfig } from '../ml/models/encoder-config';
import type { EncoderModel } from '../ml/models/encoder-model';

/**
 * A seq2seq model the size of the chatbot example, as the seq2seq benchmarks build it: 2+2 blocks,
 * hidden 128, 4 heads, FFN 512, 8,000 tokens, tied output projection.
 */
export function chatbotSizedConfig(maxLength: number, dropout: number): EncoderConfig {
  return {
    vocabSize: 8000,
    maxLength,
    layers: 2,
    hidden: 128,
    heads: 4,
    ffn: 512,
    dropout,
    activation: 'gelu',
    positional: 'sinusoidal',
    pooling: 'first',
    classes: 8000,
    decoderLayers: 2,
    tiedOutput: true,
  };
}

/**
 * Writes the model's parameters to `path` as bench/reference/torch_seq2seq.py loads them (float32,
 * one after another in parameter order); returns their names and shapes, the order it needs.
 */
export function writeReferenceWeights(model: EncoderModel, path: string): [string, number[]][] {
  const parts = [...model.params.values()].map((v) => v.dataSync() as Float32Array);
  writeFileSync(path, Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
  return [...model.params].map(([name, v]) => [name, v.shape]);
}
