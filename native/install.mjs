// Builds the RKNN addon at `npm install` / `npm ci`. The addon is optional: without a compiler
// the ONNX runtime still works, so a failed build warns and exits 0 instead of failing the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(nativeDir, '..', 'package.json'));

function nodeGypArgs() {
  const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--directory', nativeDir, '--jobs', 'max'];
  // npm passes its nodedir setting as npm_config_nodedir. Run by hand, use the headers installed
  // beside this node when there are any, so node-gyp does not try to download them.
  if (!process.env.npm_config_nodedir) {
    const prefix = resolve(dirname(process.execPath), '..');
    if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  }
  return args;
}

function warn(reason) {
  console.warn(
    [
      '',
      `lumen-face: the RKNN addon was not built (${reason}).`,
      'lumen-face: the ONNX runtime works as usual; only LUMEN_FACE_RUNTIME=rknn is unavailable.',
      'lumen-face: to build it later, install python3, make and g++ (Debian/Ubuntu: apt-get install',
      'lumen-face: python3 make g++), then run `node native/install.mjs` (or `npm rebuild`) in the project.',
      '',
    ].join('\n'),
  );
}

// node-gyp's progress (about 50 lines of `gyp info`) is kept, and shown only when the build fails.
let result;
try {
  result = spawnSync(process.execPath, nodeGypArgs(), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
} catch (error) {
  warn(error instanceof Error ? error.message : String(error));
  process.exit(0);
}
if (result.error || result.status !== 0) {
  process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  warn(result.error ? result.error.message : `node-gyp exited with ${result.signal ?? `code ${result.status}`}`);
} else {
  console.log(`lumen-face: built the RKNN addon in ${join(nativeDir, 'build', 'Release')}`);
}
process.exit(0);
