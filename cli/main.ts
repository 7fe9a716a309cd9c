#!/usr/bin/env node
import { explainStartupError } from '../server/explain.js';
import { ConfigError } from '../src/config.js';
import { SERVICE } from '../src/version.js';
import { loadPackConfig, PACK_FLAGS, parseFlags, UsageError } from './args.js';
import { checkCommand } from './check.js';
import { fetchCommand } from './fetch.js';
import { infoCommand } from './info.js';

const HELP = `Usage: lumen-face <command> [flags]

Commands:
  version   print the version (also --version)
  serve     run the HTTP service (what \`npm start\` does)
  fetch     download a pack into the cache, verify it, print where it is
  check     load the pack offline, run it on a built-in image, print a short report (exit 0 or 1)
  info      print what GET /v1/info answers, without a server

Every command reads the LUMEN_FACE_* variables (see README, "Configuration").
Run \`lumen-face <command> --help\` for its flags.`;

const SERVE_HELP = `Usage: lumen-face serve

Runs the HTTP service on LUMEN_FACE_HOST:LUMEN_FACE_PORT (default 127.0.0.1:8000), as \`npm start\` does.
It takes no flags: every setting is a LUMEN_FACE_* variable (see README, "Configuration").
  -h, --help          this help`;

async function serve(args: string[]): Promise<number | undefined> {
  const { values } = parseFlags(args, {}, 'serve');
  if (values.help) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  const { startServer } = await import('../server/start.js');
  await startServer();
  return undefined; // the server decides when the process ends
}

const COMMANDS: Record<string, (args: string[]) => Promise<number | undefined>> = {
  serve,
  fetch: fetchCommand,
  check: checkCommand,
  info: infoCommand,
};

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${SERVICE.name} ${SERVICE.version}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run)
    throw new UsageError(
      `lumen-face: unknown command ${JSON.stringify(command)}: expected one of ${[...Object.keys(COMMANDS), 'version', 'help'].join(', ')}\nRun \`lumen-face --help\`.`,
    );
  return run(rest);
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof ConfigError) {
    process.stderr.write(`lumen-face: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    // The next steps must describe the pack the flags asked for, not the one of the variables alone.
    const [command, ...rest] = process.argv.slice(2);
    let config: ReturnType<typeof loadPackConfig> | undefined;
    try {
      config = loadPackConfig(parseFlags(rest, PACK_FLAGS, command).values);
    } catch {
      config = undefined;
    }
    const failed = command === 'fetch' || command === 'check' || command === 'info' ? command : undefined;
    process.stderr.write(explainStartupError(err, config, failed));
    process.exitCode = 1;
  }
}
