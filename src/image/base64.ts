import { LumenError } from '../errors.js';

/** `data:image/jpeg;base64,` and the like: browsers' FileReader and canvas give images this way. */
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+(?:;[\w-]+=[\w.-]+)*;base64,/i;
const ALPHABET = /[^A-Za-z0-9+/]/;

/**
 * Decode a base64 image strictly. Node's own decoder skips characters it does not know, so a
 * damaged string would decode to a damaged photo; here the first bad character is a 400 giving its
 * offset in the string as sent. A data-URL prefix is accepted; the padding is optional.
 */
export function decodeBase64Image(text: string, where: string): Buffer {
  const prefix = DATA_URL.exec(text)?.[0].length ?? 0;
  let end = text.length;
  while (end > prefix && text[end - 1] === '=' && text.length - end < 2) end--;
  const body = text.slice(prefix, end);
  const bad = ALPHABET.exec(body);
  if (bad) {
    const offset = prefix + bad.index;
    throw new LumenError('INVALID_PARAMETER', `body parameter "${where}" is not valid base64: ${JSON.stringify(bad[0])} at character ${offset}`);
  }
  if (body.length % 4 === 1) {
    throw new LumenError('INVALID_PARAMETER', `body parameter "${where}" is not valid base64: it ends mid-byte at character ${text.length}`);
  }
  if (text.length - end > 0 && (body.length + (text.length - end)) % 4 !== 0) {
    throw new LumenError('INVALID_PARAMETER', `body parameter "${where}" is not valid base64: wrong padding at character ${end}`);
  }
  return Buffer.from(body, 'base64');
}
