import { join } from 'node:path';
import { PROJECT_ROOT } from '../../worker/config';

/** The folder of the bundled SNIPS samples; a worker must list it in its data roots to read them. */
export const SAMPLE_DATA = join(PROJECT_ROOT, 'pipelines', 'data');

/**
 * YAML steps that prepare the 280-row SNIPS sample for training: `pad` (80 %) and `pad_val` (20 %),
 * padded to 24 tokens, with the tokenizer `tok`. Tests append their own train, validate and deploy steps.
 */
export const SAMPLE_DATA_STEPS = `
  - id: load
    uses: load
    with: { path: ${join(SAMPLE_DATA, 'snips-intents-sample.jsonl')}, columns: { text: text, label: intent } }
  - id: split
    uses: split
    inputs: { dataset: "\${{ steps.load.outputs.dataset }}" }
    with: { train: 0.8, validation: 0.2, test: 0, stratify_by: label }
  - id: tok
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.train }}" }
    with: { vocab_size: 500 }
  - id: tok_val
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.validation }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
  - id: pad
    uses: pad
    inputs: { dataset: "\${{ steps.tok.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: 24 }
  - id: pad_val
    uses: pad
    inputs: { dataset: "\${{ steps.tok_val.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: 24 }`;

/**
 * YAML steps that prepare 250 rows of the SNIPS slot-filling sample for token classification:
 * `pad` (80 %) and `pad_val` (20 %), padded to 32 tokens, with the tokenizer `tok`.
 */
export const SLOT_DATA_STEPS = `
  - id: load
    uses: load
    with: { path: ${join(SAMPLE_DATA, 'snips-slots-sample.jsonl')}, limit: 250 }
  - id: split
    uses: split
    inputs: { dataset: "\${{ steps.load.outputs.dataset }}" }
    with: { train: 0.8, validation: 0.2, test: 0 }
  - id: tok
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.train }}" }
    with: { task: token_classification, vocab_size: 500 }
  - id: tok_val
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.validation }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { task: token_classification }
  - id: pad
    uses: pad
    inputs: { dataset: "\${{ steps.tok.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: 32 }
  - id: pad_val
    uses: pad
    inputs: { dataset: "\${{ steps.tok_val.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: 32 }`;

/**
 * YAML steps that prepare 60 rows of the SNIPS intent sample for fine-tuning the catalog's MiniLM:
 * its own vocabulary, `pad` (80 %) and `pad_val` (20 %) padded to 24 tokens, the tokenizer `tok`.
 */
export const PRETRAINED_DATA_STEPS = `
  - id: load
    uses: load
    with: { path: ${join(SAMPLE_DATA, 'snips-intents-sample.jsonl')}, columns: { text: text, label: intent }, limit: 60 }
  - id: split
    uses: split
    inputs: { dataset: "\${{ steps.load.outputs.dataset }}" }
    with: { train: 0.8, validation: 0.2, test: 0, stratify_by: label }
  - id: tok
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.train }}" }
    with: { vocab: "pretrained:all-minilm-l6-v2" }
  - id: tok_val
    uses: tokenize
    inputs: { dataset: "\${{ steps.split.outputs.validation }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
  - id: pad
    uses: pad
    inputs: { dataset: "\${{ steps.tok.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: 24 }
  - id: pad_val
    uses: pad
    inputs: { dataset: "\${{ steps.tok_val.outputs.dataset }}", tokenizer: "\${{ steps.tok.outputs.tokenizer }}" }
    with: { max_length: 24 }`;
