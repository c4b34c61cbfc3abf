/** Shape of a transformer encoder classifier; the seed document's defaults are hidden 512, 8 heads, dropout 0.1. */
export interface EncoderConfig {
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly dropout: number;
  readonly activation: 'gelu' | 'relu';
  readonly positional: 'sinusoidal' | 'learned';
  readonly pooling: 'first' | 'mean';
  readonly classes: number;
}

/** Raised for a configuration the model cannot be built with. */
export class EncoderConfigError extends Error {
  override name = 'EncoderConfigError';
}

/** Checks the configuration, so a bad one fails before any tensor is made. */
export function checkEncoderConfig(config: EncoderConfig): void {
  if (config.hidden % config.heads !== 0)
    throw new EncoderConfigError(`hidden ${config.hidden} must be divisible by heads ${config.heads}`);
  for (const key of ['vocabSize', 'maxLength', 'layers', 'hidden', 'heads', 'ffn', 'classes'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1)
      throw new EncoderConfigError(`${key} must be a positive integer, not ${config[key]}`);
  }
  if (config.dropout < 0 || config.dropout >= 1)
    throw new EncoderConfigError(`dropout must be in [0, 1), not ${config.dropout}`);
}
