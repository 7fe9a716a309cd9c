import { VARIABLES } from '../src/config.js';

/** The configuration table of docs/configuration.md, generated from VARIABLES by `npm run docs`. */

export const CONFIG_TABLE_START = '<!-- configuration: generated from VARIABLES in src/config/table.ts by `npm run docs` -->';
export const CONFIG_TABLE_END = '<!-- end of configuration -->';

export function configTable(): string {
  const rows = Object.values(VARIABLES).map((v) => `| ${v.names.map((n) => `\`${n}\``).join(', ')} | ${v.doc} | ${v.description} |`);
  return [CONFIG_TABLE_START, '| variable | default | meaning |', '|---|---|---|', ...rows, CONFIG_TABLE_END].join('\n');
}

/** `text` with its configuration table replaced by the current one. */
export function withConfigTable(text: string): string {
  const start = text.indexOf(CONFIG_TABLE_START);
  const end = text.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) throw new Error(`no "${CONFIG_TABLE_START}" ... "${CONFIG_TABLE_END}" block`);
  return text.slice(0, start) + configTable() + text.slice(end + CONFIG_TABLE_END.length);
}
