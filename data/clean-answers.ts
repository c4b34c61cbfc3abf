/** SQuAD-style gold answers of a question: texts and their starts in the context, in code points. */
export interface GoldAnswers {
  readonly text: readonly string[];
  readonly answer_start: readonly number[];
}

/** The answers placed in the cleaned context, and how many of them moved; or why a row cannot be kept. */
export type AnswerVerdict = { answers: GoldAnswers; moved: number } | { quarantine: string };

/** Offset of the `rank`-th occurrence (0 = first) of `needle` in `text`, overlapping ones counted; -1 if none. */
function nthOccurrence(text: string, needle: string, rank: number): number {
  let at = -1;
  for (let seen = 0; seen <= rank; seen++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) return -1;
  }
  return at;
}

/** How many occurrences of `needle` in `text` start before UTF-16 offset `end`. */
function occurrencesBefore(text: string, needle: string, end: number): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0 && at < end; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

/**
 * Checks each gold answer against the raw context (its text must be found at its start) and
 * finds it again in the cleaned context: the same occurrence, counted from the start, of the
 * cleaned answer text. A row whose answers are malformed, misplaced or lost to cleaning gets
 * the reason it cannot be kept; `names` are the columns, for the reasons.
 */
export function moveAnswers(
  raw: string,
  cleaned: string,
  value: unknown,
  clean: (text: string) => string,
  names: { readonly answers: string; readonly context: string },
): AnswerVerdict {
  const { text, answer_start: starts } = (value ?? {}) as { text?: unknown; answer_start?: unknown };
  if (!Array.isArray(text) || !Array.isArray(starts) || text.length !== starts.length)
    return { quarantine: `${names.answers} is not {"text": [...], "answer_start": [...]} with one start per text` };
  const points = [...raw];
  const moved = { text: [] as string[], answer_start: [] as number[], count: 0 };
  for (let i = 0; i < text.length; i++) {
    const answer: unknown = text[i];
    const start: unknown = starts[i];
    if (typeof answer !== 'string' || answer === '' || !Number.isInteger(start) || (start as number) < 0)
      return { quarantine: `${names.answers} ${i + 1} needs a non-empty text and a start ≥ 0` };
    const from = start as number;
    if (points.slice(from, from + [...answer].length).join('') !== answer)
      return { quarantine: `${names.answers} ${i + 1} is not at its answer_start in ${names.context}` };
    const rank = occurrencesBefore(raw, answer, points.slice(0, from).join('').length);
    const cleanAnswer = clean(answer);
    const at = cleanAnswer === '' ? -1 : nthOccurrence(cleaned, cleanAnswer, rank);
    if (at < 0) return { quarantine: `${names.answers} ${i + 1} is no longer in ${names.context} after cleaning` };
    const cleanStart = [...cleaned.slice(0, at)].length;
    moved.text.push(cleanAnswer);
    moved.answer_start.push(cleanStart);
    if (cleanStart !== from || cleanAnswer !== answer) moved.count++;
  }
  return { answers: { text: moved.text, answer_start: moved.answer_start }, moved: moved.count };
}
