import { spawnSync } from 'node:child_process';
import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

/**
 * `npm ci` builds the RKNN addon through native/install.mjs: a build that works prints one line, a
 * build that fails shows node-gyp's whole output and says the ONNX runtime still works. The build runs
 * in a copy of native/, so the addon the other tests load is never rebuilt under them.
 */

function copyOfProject(dir: string): string {
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const name of ['install.mjs', 'binding.gyp', 'src']) cpSync(join(REPO_ROOT, 'native', name), join(dir, 'native', name), { recursive: true });
  return join(dir, 'native', 'install.mjs');
}

const install = (script: string) => spawnSync(process.execPath, [script], { encoding: 'utf8' });

t.test('a build that works prints one line, no gyp progress', async (t) => {
  const run = install(copyOfProject(tempDir('install')));
  t.equal(run.status, 0, run.stderr);
  t.notMatch(run.stdout + run.stderr, /gyp info/);
  t.match(run.stdout, /^lumen-face: built the RKNN addon in \S+\n$/);
});

t.test('a build that fails shows the gyp output, and the install still succeeds', async (t) => {
  const script = copyOfProject(tempDir('install'));
  // A compile error, as a missing header or an old compiler would give.
  writeFileSync(join(dirname(script), 'src', 'addon.cc'), '#error this build fails on purpose\n');
  const run = install(script);
  t.equal(run.status, 0, 'the addon is optional');
  t.match(run.stderr, /gyp info[\s\S]*fails on purpose/, "node-gyp's own output, to diagnose the failure");
  t.match(run.stderr, /the RKNN addon was not built/);
});
