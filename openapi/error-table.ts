import { ERROR_CODES } from '../src/errors.js';

/** docs/api.md's table of error codes, generated from ERROR_CODES by `npm run openapi`. */

export const ERROR_TABLE_START = '<!-- error codes: generated from ERROR_CODES in src/errors.ts by `npm run openapi` -->';
export const ERROR_TABLE_END = '<!-- end of error codes -->';

export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, { status, meaning }]) => `| \`${code}\` | ${status} | ${meaning} |`);
  return [ERROR_TABLE_START, '| code | status | meaning |', '|---|---|---|', ...rows, ERROR_TABLE_END].join('\n');
}

/** `readme` with its error table replaced by the current one. */
export function withErrorTable(readme: string): string {
  const start = readme.indexOf(ERROR_TABLE_START);
  const end = readme.indexOf(ERROR_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${ERROR_TABLE_START}" ... "${ERROR_TABLE_END}" block`);
  return readme.slice(0, start) + errorTable() + readme.slice(end + ERROR_TABLE_END.length);
}
