/** How `cleanText` transforms a string; mirrors the `clean` activity's `with:` keys. */
export interface TextCleaning {
  readonly normalize: 'NFKC' | 'NFC' | 'none';
  readonly lowercase: boolean;
  readonly strip_html: boolean;
  readonly strip_control: boolean;
  readonly collapse_whitespace: boolean;
  readonly mask_urls: boolean;
  readonly mask_emails: boolean;
  readonly mask_numbers: boolean;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Removes tags (and the contents of script/style) and decodes character entities. */
export function stripHtml(text: string): string {
  return text
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<\/?[A-Za-z][^<>]*>/g, ' ')
    .replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (entity, body: string) => {
      if (body.startsWith('#')) {
        const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
      }
      return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
    });
}

// Control and format characters (zero-width spaces, BOMs, bidi marks), except the whitespace ones.
const CONTROL = /[\p{Cc}\p{Cf}]/gu;
const URL = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const NUMBER = /(?<![\p{L}\d])\d+(?:[.,]\d+)*(?![\p{L}\d])/gu;

/** Applies the configured cleaning to one text, in a fixed order: markup, Unicode, masks, case, spaces. */
export function cleanText(text: string, options: TextCleaning): string {
  let out = text;
  if (options.strip_html) out = stripHtml(out);
  if (options.normalize !== 'none') out = out.normalize(options.normalize);
  if (options.strip_control) out = out.replace(CONTROL, (ch) => (/\s/.test(ch) ? ch : ''));
  if (options.mask_urls) out = out.replace(URL, '<url>');
  if (options.mask_emails) out = out.replace(EMAIL, '<email>');
  if (options.mask_numbers) out = out.replace(NUMBER, '<num>');
  if (options.lowercase) out = out.toLowerCase();
  if (options.collapse_whitespace) out = out.replace(/\s+/g, ' ').trim();
  return out;
}
