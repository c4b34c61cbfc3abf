import { failureClass } from '../../core/failures';
/**
 * How the encoder's blocks are laid out. `pre_norm` (Pipewright's own, trained from scratch): token
 * embeddings scaled by √hidden, pre-norm blocks, a final norm. `bert` (the layout of Hugging Face
 * BERT checkpoints): token, position and token-type embeddings summed and normalized, post-norm
 * blocks, and for classification a tanh pooler over the first token.
 */
export const ENCODER_LAYOUTS = ['pre_norm', 'bert'] as const;
export type EncoderLayout = (typeof ENCODER_LAYOUTS)[number];

/** Shape of a transformer encoder classifier; the seed document's defaults are hidden 512, 8 heads, dropout 0.1. */
export interface EncoderConfig {
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly dropout: number;
  /** `gelu` is the tanh approximation, `gelu_exact` the erf form BERT checkpoints use. */
  readonly activation: 'gelu' | 'gelu_exact' | 'relu';
  readonly positional: 'sinusoidal' | 'learned';
  readonly pooling: 'first' | 'mean';
  readonly classes: number;
  /** Absent: `pre_norm` (checkpoints written before layouts existed have none). */
  readonly layout?: EncoderLayout;
  /** Added to the variance in every layer norm; absent: LAYER_NORM_EPSILON. */
  readonly layerNormEpsilon?: number;
  /** Rows of the token-type (segment) embedding of the `bert` layout. */
  readonly tokenTypes?: number;
  /** Blocks of the decoder that an encoder-decoder (sequence-to-sequence) model has; absent, there is none. */
  readonly decoderLayers?: number;
  /** An encoder-decoder model's output projection is the transposed token embedding (tied) instead of a kernel of its own. */
  readonly tiedOutput?: boolean;
}

/** Raised for a configuration the model cannot be built with. */
export class EncoderConfigError extends failureClass('EncoderConfigError') {}

/** Checks the configuration, so a bad one fails before any tensor is made. */
export function checkEncoderConfig(config: EncoderConfig): void {
  if (config.hidden % config.heads !== 0)
    throw new EncoderConfigError(`hidden ${config.hidden} must be divisible by heads ${config.heads}`);
  for (const key of ['vocabSize', 'maxLength', 'layers', 'hidden', 'heads', 'ffn', 'classes'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1)
      throw new EncoderConfigError(`${key} must be a positive integer, not ${config[key]}`);
  }
  if (config.layout === 'bert' && config.positional !== 'learned')
    throw new EncoderConfigError('the bert layout has learned positions, not sinusoidal ones');
  if (config.layout === 'bert' && !(Number.isInteger(config.tokenTypes) && config.tokenTypes! >= 1))
    throw new EncoderConfigError(`the bert layout needs tokenTypes ≥ 1, not ${config.tokenTypes}`);
  if (config.decoderLayers !== undefined) {
    if (!Number.isInteger(config.decoderLayers) || config.decoderLayers < 1)
      throw new EncoderConfigError(`decoderLayers must be a positive integer, not ${config.decoderLayers}`);
    if ((config.layout ?? 'pre_norm') !== 'pre_norm')
      throw new EncoderConfigError('an encoder-decoder model has the pre_norm layout');
  }
  if (config.dropout < 0 || config.dropout >= 1)
    throw new EncoderConfigError(`dropout must be in [0, 1), not ${config.dropout}`);
}
