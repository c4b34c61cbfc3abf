import type { EncoderConfig } from '../../ml/models/encoder-config';

/** A BERT-layout encoder small enough to build and step in milliseconds; spread it to change a size. */
export const TINY_BERT: EncoderConfig = {
  vocabSize: 50,
  maxLength: 8,
  layers: 3,
  hidden: 16,
  heads: 2,
  ffn: 32,
  dropout: 0.1,
  activation: 'gelu_exact',
  positional: 'learned',
  pooling: 'first',
  classes: 3,
  layout: 'bert',
  layerNormEpsilon: 1e-12,
  tokenTypes: 2,
};
