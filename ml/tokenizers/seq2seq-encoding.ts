import type { TextTokenizer } from './text-tokenizer';
import { failureClass } from '../../core/failures';

/** A source or target text that cannot be encoded; the message says why. */
export class Seq2SeqEncodingError extends failureClass('Seq2SeqEncodingError') {}

/** The token that separates turns, starts the decoder and ends a target: the tokenizer's end-of-text token. */
export function separatorId(tokenizer: TextTokenizer): number {
  if (tokenizer.endId === undefined)
    throw new Seq2SeqEncodingError(
      'sequence to sequence needs a tokenizer with an end-of-text token: tokenize with algorithm: byte_level_bpe',
    );
  return tokenizer.endId;
}

/**
 * The turns a source holds: a list of turns (a dialogue's context, oldest first) or one text; the
 * last `turns` of them, each trimmed. An empty source or an empty turn is an error.
 */
export function sourceTurns(value: unknown, turns: number): string[] {
  const all = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (!all || all.length === 0) throw new Seq2SeqEncodingError('the source is empty: give a text or a list of turns');
  return all.slice(-turns).map((turn, i) => {
    if (typeof turn !== 'string' || turn.trim() === '')
      throw new Seq2SeqEncodingError(
        `turn ${all.length - Math.min(turns, all.length) + i + 1} of the source is not a non-empty text`,
      );
    return turn.trim();
  });
}

/**
 * Encoder input for some turns: each turn's tokens followed by the separator, as DialoGPT joins a
 * dialogue's turns with its end-of-text token.
 */
export function encodeSource(tokenizer: TextTokenizer, turns: readonly string[]): number[] {
  const separator = separatorId(tokenizer);
  return turns.flatMap((turn) => [...tokenizer.encode(turn).ids, separator]);
}

/**
 * A target as the decoder learns it: the separator (which starts decoding), the text's tokens and
 * the separator again (which ends it). Teacher forcing feeds all but the last token and predicts
 * all but the first.
 */
export function encodeTarget(tokenizer: TextTokenizer, text: string): number[] {
  if (text.trim() === '') throw new Seq2SeqEncodingError('the target is empty');
  const separator = separatorId(tokenizer);
  return [separator, ...tokenizer.encode(text.trim()).ids, separator];
}
