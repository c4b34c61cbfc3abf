import { asRecord } from './as-record';
import type { Reporter, StepLookup } from './step-lookup';
import type { StepAnalysis } from './validate';

/** Keys of a train step's `model` that a pretrained checkpoint's config fixes. */
const FIXED_BY_CHECKPOINT = ['layers', 'hidden', 'heads', 'ffn', 'activation', 'positional'] as const;

/**
 * Checks a train step that fine-tunes a pretrained checkpoint: it is not a seq2seq step (whose
 * decoder no BERT checkpoint has), it sets none of the shape keys the
 * checkpoint fixes, and the tokenize step that built its vocabulary (followed through the
 * `tokenizer` wires) uses `vocab: pretrained:<the same checkpoint>`.
 */
export function checkPretrained(
  steps: StepLookup,
  analyses: ReadonlyMap<string, StepAnalysis>,
  report: Reporter,
): void {
  const { raw, withOf, at } = steps;
  for (const [id, analysis] of analyses) {
    if (raw(id)?.uses !== 'train') continue;
    const model = asRecord(withOf(id).model);
    const pretrained = model?.pretrained;
    if (typeof pretrained !== 'string') continue;
    if (withOf(id).task === 'seq2seq') {
      report(
        'PRETRAINED_CONFLICT',
        at(id, 'with', 'model', 'pretrained'),
        `step "${id}": a seq2seq model is an encoder-decoder trained from scratch; pretrained BERT checkpoints are encoders only: remove model.pretrained`,
      );
      continue;
    }
    for (const key of FIXED_BY_CHECKPOINT) {
      if (key in model!)
        report(
          'PRETRAINED_CONFLICT',
          at(id, 'with', 'model', key),
          `step "${id}": model.${key} cannot be set with model.pretrained: ${pretrained}'s config.json fixes the encoder's shape; remove it`,
          true,
        );
    }
    const vocabularyStep = vocabularyOf(analysis.inputs.tokenizer?.step, steps, analyses);
    if (!vocabularyStep) continue;
    const vocab = withOf(vocabularyStep).vocab;
    const wanted = `pretrained:${pretrained}`;
    if (typeof vocab === 'string' && vocab.includes('${{')) continue;
    if (vocab !== wanted)
      report(
        'PRETRAINED_CONFLICT',
        vocab === undefined ? at(vocabularyStep, 'uses') : at(vocabularyStep, 'with', 'vocab'),
        `step "${vocabularyStep}": train step "${id}" fine-tunes ${pretrained}, whose embeddings fit only its own vocabulary; set vocab: ${wanted}${vocab === undefined ? ' (this step trains a vocabulary)' : ` instead of ${JSON.stringify(vocab)}`}`,
      );
  }
}

/** The tokenize step that built a tokenizer: the first one along the `tokenizer` wires without a tokenizer input. */
function vocabularyOf(
  step: string | undefined,
  steps: StepLookup,
  analyses: ReadonlyMap<string, StepAnalysis>,
): string | undefined {
  const seen = new Set<string>();
  while (step && !seen.has(step) && steps.uses(step) === 'tokenize') {
    seen.add(step);
    const given = analyses.get(step)?.inputs.tokenizer?.step;
    if (!given) return step;
    step = given;
  }
  return undefined;
}
