import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { REPO_ROOT } from './helpers/fixtures.js';

/** What a fresh clone's `npm ci` sees: our engines, the locked packages' engines, and no deprecated config. */

const run = promisify(execFile);
const json = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8'));
const pkg = json('package.json');
const lock = json('package-lock.json');
// semver comes with npm's own dependencies in the lockfile; no typings are needed for two calls.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(v: string, range: string): boolean;
  minVersion(range: string): { version: string };
};

/** The lowest release of each supported line: what `engines` promises. */
const SUPPORTED = ['22', '24'].map((major) => semver.minVersion(`${major}.x ${pkg.engines.node}`).version);

t.test('every locked package runs on the lowest release of each supported Node line', async (t) => {
  t.same(lock.packages[''].engines, pkg.engines, 'the lockfile carries the same engines');
  for (const node of SUPPORTED) {
    const refused = Object.entries(lock.packages as Record<string, { engines?: { node?: string }; os?: unknown; cpu?: unknown; version?: string }>)
      .filter(([, p]) => p.engines?.node && !p.os && !p.cpu && !semver.satisfies(node, p.engines.node))
      .map(([name, p]) => `${name}@${p.version} wants ${p.engines!.node}`);
    t.same(refused, [], `Node ${node}: no EBADENGINE`);
  }
  t.notOk(semver.satisfies('20.20.0', pkg.engines.node), 'Node 20 (end of life) is not claimed');
});

t.test('the README states the Node versions engines says', async (t) => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  t.match(readme, `\`engines\` says \`${pkg.engines.node}\``);
});

t.test("onnxruntime-node's CUDA download is denied in package.json, not by a deprecated .npmrc key", async (t) => {
  t.equal(pkg.allowScripts['onnxruntime-node'], false);
  const npmrc = join(REPO_ROOT, '.npmrc');
  if (existsSync(npmrc)) t.notMatch(readFileSync(npmrc, 'utf8'), /onnxruntime/);
  // Any npm call in the project prints config warnings on stderr; this one changes nothing.
  const { stderr } = await run('npm', ['config', 'get', 'engine-strict'], { cwd: REPO_ROOT });
  t.notMatch(stderr, /Unknown|deprecated/i, 'npm warns about no project config');
  const { stdout: version } = await run('npm', ['--version']);
  if (!semver.satisfies(version.trim(), '>=11.16')) {
    t.pass(`npm ${version.trim()} predates allowScripts (11.16): nothing more to check`);
    return;
  }
  const { stdout, stderr: err } = await run('npm', ['approve-scripts', '--allow-scripts-pending'], { cwd: REPO_ROOT });
  t.match(stdout + err, /No packages with unreviewed install scripts/, 'every install script is decided, so npm ci prints no advisory');
});
