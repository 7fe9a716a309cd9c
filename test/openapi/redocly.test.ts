import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

/** `redocly lint` with its recommended rules (openapi/redocly.yaml) passes with no error and no warning. */

const root = fileURLToPath(new URL('../../../', import.meta.url));

t.test('redocly lint: 0 errors, 0 warnings', async (t) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['node_modules/@redocly/cli/bin/cli.js', 'lint', '--config', 'openapi/redocly.yaml', '--format', 'json', 'openapi/openapi.json'],
    { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
  );
  const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number; ignored: number }; problems: unknown[] };
  t.same(report.problems, []);
  t.match(report.totals, { errors: 0, warnings: 0 });
  // The exceptions are the two probes of .redocly.lint-ignore.yaml, nothing else.
  t.equal(report.totals.ignored, 2);
});
