import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainTask } from '../../core/metrics';
import type { EncoderConfig } from '../models/encoder-config';
import type { TokenizerFile } from '../tokenizers/tokenizer-file';
import { WORDPIECE_SPECIALS } from '../tokenizers/wordpiece';
import type { CheckpointFile } from '../train/checkpoint';
import { huggingFaceTensors, PretrainedError } from './bert-checkpoint';
import { writeSafetensors, type NamedTensor } from './safetensors';

/** The transformers class each task's model loads as, and the module holding its head (seq2seq models are Pipewright's own: none). */
const ARCHITECTURES: Readonly<Partial<Record<TrainTask, { readonly name: string; readonly head: string }>>> = {
  classification: { name: 'BertForSequenceClassification', head: 'classifier' },
  token_classification: { name: 'BertForTokenClassification', head: 'classifier' },
  question_answering: { name: 'BertForQuestionAnswering', head: 'qa_outputs' },
};

/** config.json's `hidden_act` for each activation. */
const HIDDEN_ACT: Readonly<Record<EncoderConfig['activation'], string>> = {
  gelu_exact: 'gelu',
  gelu: 'gelu_new',
  relu: 'relu',
};

/** What an export wrote. */
export interface HuggingFaceExport {
  readonly dir: string;
  readonly architecture: string;
  readonly files: readonly string[];
}

/**
 * Writes a checkpoint of a `bert`-layout model (a fine-tuned pretrained checkpoint) and its
 * tokenizer as a Hugging Face directory — config.json, model.safetensors, vocab.txt and
 * tokenizer_config.json — that transformers' AutoModelForSequenceClassification or
 * AutoModelForTokenClassification and AutoTokenizer load as the same model.
 */
export function exportHuggingFace(file: CheckpointFile, tokenizer: TokenizerFile, dir: string): HuggingFaceExport {
  const { manifest, values } = file;
  const config = manifest.config;
  const task = manifest.task ?? 'classification';
  const architectureOf = ARCHITECTURES[task];
  if (config.layout !== 'bert' || !architectureOf)
    throw new PretrainedError(
      'only models of the bert layout (fine-tuned from a pretrained checkpoint) export to the Hugging Face format; this one is Pipewright’s own pre-norm encoder, which transformers has no class for',
    );
  const { name: architecture, head } = architectureOf;
  if (task === 'classification' && config.pooling !== 'first')
    throw new PretrainedError(
      'BertForSequenceClassification reads the pooled first token; a model trained with pooling: mean has no Hugging Face equivalent',
    );
  if (tokenizer.type !== 'wordpiece') throw new PretrainedError('a BERT model exports with a WordPiece tokenizer');
  const labels = manifest.labels ?? Array.from({ length: config.classes }, (_, i) => String(i));
  const tensors: NamedTensor[] = [];
  for (const t of manifest.tensors) {
    if (t.name.startsWith('adam/')) continue;
    tensors.push(...huggingFaceTensors(t.name, t.shape, values.slice(t.offset, t.offset + t.length), head));
  }
  mkdirSync(dir, { recursive: true });
  const hfConfig = {
    architectures: [architecture],
    model_type: 'bert',
    vocab_size: config.vocabSize,
    hidden_size: config.hidden,
    num_hidden_layers: config.layers,
    num_attention_heads: config.heads,
    intermediate_size: config.ffn,
    hidden_act: HIDDEN_ACT[config.activation],
    hidden_dropout_prob: config.dropout,
    attention_probs_dropout_prob: config.dropout,
    max_position_embeddings: config.maxLength,
    type_vocab_size: config.tokenTypes,
    layer_norm_eps: config.layerNormEpsilon,
    position_embedding_type: 'absolute',
    initializer_range: 0.02,
    pad_token_id: Math.max(0, tokenizer.vocab.indexOf(WORDPIECE_SPECIALS.pad)),
    id2label: Object.fromEntries(labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(labels.map((label, i) => [label, i])),
    ...(task === 'classification' && { problem_type: 'single_label_classification' }),
  };
  const written = {
    'config.json': JSON.stringify(hfConfig, null, 2) + '\n',
    'vocab.txt': tokenizer.vocab.join('\n') + '\n',
    'tokenizer_config.json':
      JSON.stringify(
        {
          tokenizer_class: 'BertTokenizer',
          do_lower_case: tokenizer.lowercase,
          strip_accents: tokenizer.stripAccents,
          model_max_length: config.maxLength,
          ...Object.fromEntries(
            (['unk', 'sep', 'pad', 'cls', 'mask'] as const).map((k) => [`${k}_token`, WORDPIECE_SPECIALS[k]]),
          ),
        },
        null,
        2,
      ) + '\n',
  };
  for (const [name, text] of Object.entries(written)) writeFileSync(join(dir, name), text);
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return { dir, architecture, files: [...Object.keys(written), 'model.safetensors'] };
}
