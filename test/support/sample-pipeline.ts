import { join } from 'node:path';
import { PROJECT_ROOT } from '../../worker/config';

/** The folder of the bundled SNIPS samples; a worker must list it in its data roots to read them. */
export const SAMPLE_DATA = join(PROJECT_ROOT, 'pipelines', 'data');

/**
 * YAML steps that load a bundled sample, split it 80/20 and tokenize and pad both parts: `pad` and
 * `pad_val`, with the tokenizer `tok`. Tests append their own train, validate and deploy steps.
 */
function dataSteps(options: { load: string; split: string; tokenize: string; tokenizeAgain?: string; length: number }) {
  return `
  - id: load
    uses: load
    with: { ${options.load} }
  - id: split
    uses: split
    inputs: { dataset: "\${{ steps.load.outputs.dataset }}" }
    with: { train: 0.8, validation: 0.2, test: 0${options.split} }
  - id: tok
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.train }}" }
    with: { ${options.tokenize} }
  - id: tok_val
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.validation }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }${options.tokenizeAgain ? `\n    with: { ${options.tokenizeAgain} }` : ''}
  - id: pad
    uses: pad
    inputs: { dataset: "\${{ steps.tok.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: ${options.length} }
  - id: pad_val
    uses: pad
    inputs: { dataset: "\${{ steps.tok_val.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: ${options.length} }`;
}

const INTENTS = `path: ${join(SAMPLE_DATA, 'snips-intents-sample.jsonl')}, columns: { text: text, label: intent }`;

/** The 280-row SNIPS intent sample for classification, a 500-token vocabulary, padded to 24 tokens. */
export const SAMPLE_DATA_STEPS = dataSteps({
  load: INTENTS,
  split: ', stratify_by: label',
  tokenize: 'vocab_size: 500',
  length: 24,
});

/** 250 rows of the SNIPS slot-filling sample for token classification, padded to 32 tokens. */
export const SLOT_DATA_STEPS = dataSteps({
  load: `path: ${join(SAMPLE_DATA, 'snips-slots-sample.jsonl')}, limit: 250`,
  split: '',
  tokenize: 'task: token_classification, vocab_size: 500',
  tokenizeAgain: 'task: token_classification',
  length: 32,
});

/** 60 rows of the SNIPS intent sample for fine-tuning the catalog's MiniLM, with its own vocabulary. */
export const PRETRAINED_DATA_STEPS = dataSteps({
  load: `${INTENTS}, limit: 60`,
  split: ', stratify_by: label',
  tokenize: 'vocab: "pretrained:all-minilm-l6-v2"',
  length: 24,
});

/** 120 questions of the bAbI sample for question answering, in windows of 48 tokens (long stories take two). */
export const QA_DATA_STEPS = dataSteps({
  load: `path: ${join(SAMPLE_DATA, 'babi-en-sample.jsonl')}, limit: 120`,
  split: '',
  tokenize: 'task: question_answering, vocab_size: 300, max_length: 48, stride: 16',
  tokenizeAgain: 'task: question_answering, max_length: 48, stride: 16',
  length: 48,
});

/** 120 dialogue turns of the ChatterBot sample for sequence to sequence: byte-level BPE, sources and replies padded to 32 tokens. */
export const DIALOGUE_DATA_STEPS = dataSteps({
  load: `path: ${join(SAMPLE_DATA, 'chatterbot-en-sample.jsonl')}, limit: 120`,
  split: '',
  tokenize: 'task: seq2seq, algorithm: byte_level_bpe, vocab_size: 400',
  tokenizeAgain: 'task: seq2seq',
  length: 32,
});
