import { createBackend } from '../src/backend.js';
import { PACK_FLAGS, PACK_FLAGS_HELP, loadPackConfig, parseFlags } from './args.js';
import { quietLogger } from './output.js';

export const INFO_HELP = `Usage: lumen-face info [--model NAME] [--precision P] [--runtime R] [--layout L]

Loads the pack as the service would and prints what GET /v1/info answers, as JSON, without a server.

${PACK_FLAGS_HELP}
  -h, --help          this help`;

export async function infoCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, PACK_FLAGS, 'info');
  if (values.help) {
    process.stdout.write(`${INFO_HELP}\n`);
    return 0;
  }
  const config = loadPackConfig(values);
  const backend = await createBackend({ config, log: quietLogger() });
  try {
    process.stdout.write(`${JSON.stringify(backend.info(), null, 2)}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}
