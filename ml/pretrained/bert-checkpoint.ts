import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncoderConfig } from '../models/encoder-config';
import { SafetensorsFile } from './safetensors';
import { failureClass } from '../../core/failures';

/** A pretrained checkpoint that cannot be used; the message names the file or key and what to do. */
export class PretrainedError extends failureClass('PretrainedError') {}

/** Hugging Face `model_type`s whose checkpoints load into the encoder's `bert` layout. */
export const SUPPORTED_MODEL_TYPES = ['bert'] as const;

/** `hidden_act` values of config.json and the activation each is. */
const ACTIVATIONS: Readonly<Record<string, EncoderConfig['activation']>> = {
  gelu: 'gelu_exact',
  gelu_new: 'gelu',
  gelu_pytorch_tanh: 'gelu',
  relu: 'relu',
};

/** The encoder's shape as a checkpoint fixes it: everything but what the task decides. */
export type PretrainedShape = Omit<EncoderConfig, 'classes' | 'pooling' | 'dropout'> & {
  /** hidden_dropout_prob of config.json. */
  readonly dropout: number;
};

/** A checkpoint directory in the Hugging Face layout: config.json and model.safetensors. */
export interface BertCheckpoint {
  readonly dir: string;
  readonly shape: PretrainedShape;
  /** Prefix of the encoder's tensors: `bert.` in task models (BertForSequenceClassification, …), none in BertModel. */
  readonly prefix: string;
  readonly weights: SafetensorsFile;
}

/** Reads and checks a checkpoint's config.json and opens its weights; close `weights` when done. */
export function openBertCheckpoint(dir: string): BertCheckpoint {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath))
    throw new PretrainedError(`${dir} is not a Hugging Face checkpoint: it has no config.json`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new PretrainedError(`${configPath} is not JSON: ${(error as Error).message}`);
  }
  const shape = shapeOf(config, configPath);
  const weightsPath = join(dir, 'model.safetensors');
  if (!existsSync(weightsPath))
    throw new PretrainedError(
      `${dir} has no model.safetensors (weights in PyTorch's pickle format are not read: convert them with the safetensors package)`,
    );
  const weights = SafetensorsFile.open(weightsPath);
  const prefix = weights.entries.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : '';
  return { dir, shape, prefix, weights };
}

function shapeOf(config: Record<string, unknown>, path: string): PretrainedShape {
  const modelType = config.model_type;
  if (!(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(modelType))
    throw new PretrainedError(
      `${path}: model_type ${JSON.stringify(modelType)} is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')} (BERT-family checkpoints such as bert-base-uncased or all-MiniLM-L6-v2)`,
    );
  const integer = (key: string, fallback?: number): number => {
    const value = config[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) < 1)
      throw new PretrainedError(`${path}: ${key} must be a positive integer, not ${JSON.stringify(config[key])}`);
    return value as number;
  };
  const positionType = config.position_embedding_type ?? 'absolute';
  if (positionType !== 'absolute')
    throw new PretrainedError(
      `${path}: position_embedding_type ${JSON.stringify(positionType)} is not supported; only absolute (learned) positions are`,
    );
  const act = config.hidden_act ?? 'gelu';
  const activation = typeof act === 'string' ? ACTIVATIONS[act] : undefined;
  if (!activation)
    throw new PretrainedError(
      `${path}: hidden_act ${JSON.stringify(act)} is not supported; supported: ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  const epsilon = config.layer_norm_eps ?? 1e-12;
  if (typeof epsilon !== 'number' || !(epsilon > 0))
    throw new PretrainedError(`${path}: layer_norm_eps must be a positive number, not ${JSON.stringify(epsilon)}`);
  const dropout = config.hidden_dropout_prob ?? 0.1;
  if (typeof dropout !== 'number' || dropout < 0 || dropout >= 1)
    throw new PretrainedError(`${path}: hidden_dropout_prob must be in [0, 1), not ${JSON.stringify(dropout)}`);
  const hidden = integer('hidden_size');
  const heads = integer('num_attention_heads');
  if (hidden % heads !== 0)
    throw new PretrainedError(`${path}: hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`);
  return {
    layout: 'bert',
    vocabSize: integer('vocab_size'),
    maxLength: integer('max_position_embeddings'),
    layers: integer('num_hidden_layers'),
    hidden,
    heads,
    ffn: integer('intermediate_size'),
    dropout,
    activation,
    positional: 'learned',
    layerNormEpsilon: epsilon,
    tokenTypes: integer('type_vocab_size', 2),
  };
}

/** A parameter's values in the encoder's layout (row-major, kernels [in, out]). */
export interface ParameterValues {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/**
 * The checkpoint's tensors for one of the encoder's parameters, or undefined for one it does not
 * hold (the task's head; the pooler of a checkpoint saved without one). Linear weights are stored
 * [out, in] and become kernels [in, out]; a block's query, key and value projections become one
 * fused [hidden, 3·hidden] kernel.
 */
export function pretrainedParameter(checkpoint: BertCheckpoint, name: string): ParameterValues | undefined {
  const source = sourceOf(name);
  if (!source) return undefined;
  const tensor = (hf: string) => `${checkpoint.prefix}${hf}`;
  const kind = source.kind;
  if (kind === 'qkv-kernel' || kind === 'qkv-bias') {
    const parts = ['query', 'key', 'value'].map(
      (p) => `${source.tensor}.${p}.${kind === 'qkv-kernel' ? 'weight' : 'bias'}`,
    );
    const values = parts.map((p) =>
      kind === 'qkv-kernel' ? kernelOf(checkpoint, tensor(p)) : vectorOf(checkpoint, tensor(p)),
    );
    if (kind === 'qkv-bias')
      return { shape: [3 * values[0]!.values.length], values: concat(values.map((v) => v.values)) };
    const [rows, cols] = values[0]!.shape as [number, number];
    const fused = new Float32Array(rows * 3 * cols);
    for (let r = 0; r < rows; r++)
      values.forEach((v, part) => fused.set(v.values.subarray(r * cols, (r + 1) * cols), r * 3 * cols + part * cols));
    return { shape: [rows, 3 * cols], values: fused };
  }
  const hf = tensor(source.tensor);
  if (!checkpoint.weights.entries.has(hf)) {
    if (name.startsWith('pooler/')) return undefined;
    throw new PretrainedError(`${checkpoint.weights.path} holds no tensor "${hf}", which the encoder's ${name} needs`);
  }
  return kind === 'kernel'
    ? kernelOf(checkpoint, hf)
    : kind === 'vector'
      ? vectorOf(checkpoint, hf)
      : tableOf(checkpoint, hf);
}

/** What `huggingFaceTensors` writes a task head's parameters as, in a head module of the given name. */
const HEAD_TENSORS: Readonly<Record<string, { kind: Source['kind']; tensor: string }>> = {
  'head/kernel': { kind: 'kernel', tensor: 'weight' },
  'head/bias': { kind: 'vector', tensor: 'bias' },
};

/**
 * The Hugging Face tensors of one of the encoder's parameters (values row-major, as the model
 * holds them), the inverse of pretrainedParameter: kernels go back to [out, in], the fused q|k|v
 * projection to three, encoder tensors get the task model's `bert.` prefix and the head becomes
 * the task model's head module (`classifier`, or `qa_outputs` for question answering).
 */
export function huggingFaceTensors(
  name: string,
  shape: readonly number[],
  values: Float32Array,
  headModule: string,
): { name: string; shape: number[]; values: Float32Array }[] {
  const head = HEAD_TENSORS[name];
  const source = head ? { kind: head.kind, tensor: `${headModule}.${head.tensor}` } : sourceOf(name);
  if (!source) throw new PretrainedError(`the encoder's ${name} has no place in a Hugging Face BERT checkpoint`);
  const prefix = head ? '' : 'bert.';
  const transpose = (rows: number, cols: number, data: Float32Array) => {
    const out = new Float32Array(data.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
    return out;
  };
  if (source.kind === 'qkv-kernel' || source.kind === 'qkv-bias') {
    const d = source.kind === 'qkv-bias' ? shape[0]! / 3 : shape[0]!;
    return ['query', 'key', 'value'].map((part, i) => {
      const tensor = `${prefix}${source.tensor}.${part}.${source.kind === 'qkv-kernel' ? 'weight' : 'bias'}`;
      if (source.kind === 'qkv-bias') return { name: tensor, shape: [d], values: values.slice(i * d, (i + 1) * d) };
      const kernel = new Float32Array(d * d);
      for (let r = 0; r < d; r++) kernel.set(values.subarray(r * 3 * d + i * d, r * 3 * d + (i + 1) * d), r * d);
      return { name: tensor, shape: [d, d], values: transpose(d, d, kernel) };
    });
  }
  if (source.kind === 'kernel') {
    const [inputs, out] = shape as [number, number];
    return [{ name: `${prefix}${source.tensor}`, shape: [out, inputs], values: transpose(inputs, out, values) }];
  }
  return [{ name: `${prefix}${source.tensor}`, shape: [...shape], values }];
}

type Source = { kind: 'kernel' | 'vector' | 'table' | 'qkv-kernel' | 'qkv-bias'; tensor: string };

/** Where the encoder's parameter `name` lives in a Hugging Face BERT checkpoint. */
function sourceOf(name: string): Source | undefined {
  const fixed: Record<string, Source> = {
    'embedding/tokens': { kind: 'table', tensor: 'embeddings.word_embeddings.weight' },
    'embedding/positions': { kind: 'table', tensor: 'embeddings.position_embeddings.weight' },
    'embedding/token_types': { kind: 'table', tensor: 'embeddings.token_type_embeddings.weight' },
    'embedding/norm/gamma': { kind: 'vector', tensor: 'embeddings.LayerNorm.weight' },
    'embedding/norm/beta': { kind: 'vector', tensor: 'embeddings.LayerNorm.bias' },
    'pooler/kernel': { kind: 'kernel', tensor: 'pooler.dense.weight' },
    'pooler/bias': { kind: 'vector', tensor: 'pooler.dense.bias' },
  };
  if (fixed[name]) return fixed[name];
  const match = /^layer(\d+)\/(.+)$/.exec(name);
  if (!match) return undefined;
  const block = `encoder.layer.${match[1]}`;
  const inBlock: Record<string, Source> = {
    'attention/qkv/kernel': { kind: 'qkv-kernel', tensor: `${block}.attention.self` },
    'attention/qkv/bias': { kind: 'qkv-bias', tensor: `${block}.attention.self` },
    'attention/o/kernel': { kind: 'kernel', tensor: `${block}.attention.output.dense.weight` },
    'attention/o/bias': { kind: 'vector', tensor: `${block}.attention.output.dense.bias` },
    'norm1/gamma': { kind: 'vector', tensor: `${block}.attention.output.LayerNorm.weight` },
    'norm1/beta': { kind: 'vector', tensor: `${block}.attention.output.LayerNorm.bias` },
    'ffn/in/kernel': { kind: 'kernel', tensor: `${block}.intermediate.dense.weight` },
    'ffn/in/bias': { kind: 'vector', tensor: `${block}.intermediate.dense.bias` },
    'ffn/out/kernel': { kind: 'kernel', tensor: `${block}.output.dense.weight` },
    'ffn/out/bias': { kind: 'vector', tensor: `${block}.output.dense.bias` },
    'norm2/gamma': { kind: 'vector', tensor: `${block}.output.LayerNorm.weight` },
    'norm2/beta': { kind: 'vector', tensor: `${block}.output.LayerNorm.bias` },
  };
  return inBlock[match[2]!];
}

function ranked(checkpoint: BertCheckpoint, name: string, rank: number): readonly number[] {
  const shape = checkpoint.weights.entry(name).shape;
  if (shape.length !== rank)
    throw new PretrainedError(
      `${checkpoint.weights.path}: tensor "${name}" has shape ${JSON.stringify(shape)}, not ${rank} dimension(s)`,
    );
  return shape;
}

function vectorOf(checkpoint: BertCheckpoint, name: string): ParameterValues {
  return { shape: ranked(checkpoint, name, 1), values: checkpoint.weights.floats(name) };
}

function tableOf(checkpoint: BertCheckpoint, name: string): ParameterValues {
  return { shape: ranked(checkpoint, name, 2), values: checkpoint.weights.floats(name) };
}

/** A linear layer's [out, in] weight as a kernel [in, out]. */
function kernelOf(checkpoint: BertCheckpoint, name: string): ParameterValues {
  const [out, inputs] = ranked(checkpoint, name, 2) as [number, number];
  const weight = checkpoint.weights.floats(name);
  const kernel = new Float32Array(weight.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inputs; i++) kernel[i * out + o] = weight[o * inputs + i]!;
  return { shape: [inputs, out], values: kernel };
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
