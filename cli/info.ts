import { createBackend } from '../src/backend.js';
import { loadConfigWith } from '../src/config.js';
import { PACK_FLAGS, PACK_FLAGS_HELP, loadPackConfig, packOverrides, parseFlags } from './args.js';
import { quietLogger } from './output.js';

export const INFO_HELP = `Usage: lumen-face info [--model NAME] [--precision P] [--runtime R] [--layout L]

Loads the pack as the service would, offline like \`check\` (it never downloads: \`fetch\` does), and
prints what GET /v1/info answers, as JSON, without a server.

${PACK_FLAGS_HELP}
  -h, --help          this help`;

export async function infoCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, PACK_FLAGS, 'info');
  if (values.help) {
    process.stdout.write(`${INFO_HELP}\n`);
    return 0;
  }
  loadPackConfig(values); // names a bad flag as the flag
  const config = loadConfigWith({ ...packOverrides(values), LUMEN_FACE_OFFLINE: '1' });
  const backend = await createBackend({ config, log: quietLogger() });
  try {
    process.stdout.write(`${JSON.stringify(backend.info(), null, 2)}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}
