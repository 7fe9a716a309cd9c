/**
 * One phrasing for every validation message, after sharp's invalidParameterError: the name, what was
 * expected and what was received. And one boolean vocabulary, for the environment, query knobs and extras.
 */

/** Containers nested deeper than a box with landmarks show as "...", so no input can overflow the stack. */
const PREVIEW_DEPTH = 4;
const PREVIEW_LENGTH = 80;

/**
 * `received` as a short JSON-like preview, bounded in depth and length whatever it holds. Strings keep
 * their quotes so an empty or blank value shows; Infinity and NaN show as such instead of as null.
 */
export function shown(received: unknown): string {
  if (received === undefined) return 'nothing';
  let text = '';
  const write = (v: unknown, depth: number): void => {
    if (text.length > PREVIEW_LENGTH) return;
    if (Array.isArray(v) || (typeof v === 'object' && v !== null)) {
      if (depth >= PREVIEW_DEPTH) {
        text += '...';
        return;
      }
      const array = Array.isArray(v);
      const entries = array ? v.map((item) => ['', item] as const) : Object.entries(v);
      text += array ? '[' : '{';
      for (const [i, [key, item]] of entries.entries()) {
        if (text.length > PREVIEW_LENGTH) break;
        if (i > 0) text += ',';
        if (!array) text += `${JSON.stringify(key)}:`;
        write(item, depth + 1);
      }
      text += array ? ']' : '}';
      return;
    }
    if (typeof v === 'string') text += JSON.stringify(v.length > PREVIEW_LENGTH ? v.slice(0, PREVIEW_LENGTH + 1) : v);
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) text += String(v);
    else text += String(v);
  };
  write(received, 0);
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}...` : text;
}

/** `min_score is invalid: expected a number from 0 to 1; received "abc"` */
export function invalid(name: string, expected: string, received: unknown): string {
  return `${name} is invalid: expected ${expected}; received ${shown(received)}`;
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** What a boolean accepts, for messages and documentation. */
export const BOOLEAN_WORDS = 'a boolean: 1/true/yes/on or 0/false/no/off (any case)';

/** A boolean from text in the one vocabulary, or undefined when the text is none of its words. */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return undefined;
}

/**
 * The one grammar for numbers written as text (environment variables, query knobs, text options):
 * decimal digits only, so `0x1e`, `1e3`, `Infinity` and a blank are refused wherever a number is read.
 */
export const INTEGER_TEXT = /^\+?\d+$/;
export const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** An integer from text in the one grammar (surrounding spaces allowed), or undefined. */
export function integerFromText(text: string): number | undefined {
  const t = text.trim();
  const n = INTEGER_TEXT.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A decimal number from text in the one grammar (surrounding spaces allowed), or undefined. */
export function decimalFromText(text: string): number | undefined {
  const t = text.trim();
  const n = DECIMAL_TEXT.test(t) ? Number(t) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
