/** A normalized character and the span of original text (UTF-16 indices) it came from. */
export interface AlignedChar {
  readonly ch: string;
  readonly start: number;
  readonly end: number;
}

export interface BertNormalization {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
}

const OTHER = /^[\p{Cc}\p{Cf}\p{Cn}\p{Co}]$/u;
const WHITE = /^\p{White_Space}$/u;
const NONSPACING_MARK = /^\p{Mn}$/u;

function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * BERT's normalization, one original character at a time so every output character keeps its
 * source span: drop control characters, map whitespace to spaces, pad CJK ideographs with spaces,
 * strip accents (NFD, then drop nonspacing marks) and lowercase.
 * Lowercasing is per character on purpose: a whole-string lowercase would apply the final-sigma rule.
 */
export function normalizeBert(text: string, options: BertNormalization): AlignedChar[] {
  const out: AlignedChar[] = [];
  let start = 0;
  for (const original of text) {
    const end = start + original.length;
    const cp = original.codePointAt(0)!;
    const push = (ch: string) => out.push({ ch, start, end });
    if (
      cp === 0 ||
      cp === 0xfffd ||
      (OTHER.test(original) && original !== '\t' && original !== '\n' && original !== '\r')
    ) {
      // dropped
    } else if (original === '\t' || original === '\n' || original === '\r' || WHITE.test(original)) {
      push(' ');
    } else if (isChineseChar(cp)) {
      push(' ');
      push(transform(original, options));
      push(' ');
    } else {
      const decomposed = options.stripAccents ? original.normalize('NFD') : original;
      for (const ch of decomposed) {
        if (options.stripAccents && NONSPACING_MARK.test(ch)) continue;
        for (const lower of options.lowercase ? ch.toLowerCase() : ch) push(lower);
      }
    }
    start = end;
  }
  return out;
}

function transform(ch: string, options: BertNormalization): string {
  return options.lowercase ? ch.toLowerCase() : ch;
}

const PUNCTUATION = /^\p{P}$/u;

function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  const asciiPunct =
    (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  return asciiPunct || PUNCTUATION.test(ch);
}

/** A pre-token: characters with their original span. */
export interface Word {
  readonly chars: readonly AlignedChar[];
}

/** BERT's pre-tokenization: split on spaces (dropped) and around each punctuation character (kept alone). */
export function splitBertWords(chars: readonly AlignedChar[]): Word[] {
  const words: Word[] = [];
  let current: AlignedChar[] = [];
  const flush = () => {
    if (current.length > 0) words.push({ chars: current });
    current = [];
  };
  for (const c of chars) {
    if (c.ch === ' ') {
      flush();
    } else if (isBertPunctuation(c.ch)) {
      flush();
      words.push({ chars: [c] });
    } else {
      current.push(c);
    }
  }
  flush();
  return words;
}
