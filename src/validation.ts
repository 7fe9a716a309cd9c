/**
 * One phrasing for every validation message, after sharp's invalidParameterError: the name, what was
 * expected and what was received. And one boolean vocabulary, for the environment, query knobs and extras.
 */

const MARK = '\uE000'; // a private-use character, which JSON.stringify leaves as it is

/** JSON, except that Infinity and NaN show as such instead of as null. */
function json(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `${MARK}${v}${MARK}` : v));
  return text === undefined ? String(value) : text.replace(new RegExp(`"${MARK}(.*?)${MARK}"`, 'g'), '$1');
}

/** `received` as a short JSON-ish preview; strings keep their quotes so an empty or blank value shows. */
export function shown(received: unknown): string {
  if (received === undefined) return 'nothing';
  const text = json(received);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
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
