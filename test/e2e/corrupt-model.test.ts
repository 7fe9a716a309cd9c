import { randomBytes } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { lumenFace, runNode, SERVER, type Run } from '../helpers/cli.js';
import { MODELS_DIR } from '../helpers/fixtures.js';
import { tmpDir } from '../helpers/models.js';

/**
 * A broken graph in LUMEN_FACE_LOCAL_DIR: every start says which file, why and what to do, and exits 1.
 * Opening it in a worker failed differently run to run (an uncaught Piscina 'error', or SIGABRT), so each
 * kind is started many times, a few at once.
 */

const MODEL = 'scrfd_500m_mbf';
const PACK = join(MODELS_DIR, MODEL, 'onnxrt', 'fp32');
const STARTS = 5;
const AT_ONCE = 4;

type Kind = { name: string; role: 'detection' | 'recognition'; bytes: () => Promise<Buffer> };
const half = async (role: string) => {
  const good = await readFile(join(PACK, `${role}.onnx`));
  return good.subarray(0, Math.floor(good.length / 2));
};
const KINDS: Kind[] = [
  { name: 'truncated detection.onnx', role: 'detection', bytes: () => half('detection') },
  { name: 'random detection.onnx', role: 'detection', bytes: async () => randomBytes(200_000) },
  { name: 'empty detection.onnx', role: 'detection', bytes: async () => Buffer.alloc(0) },
  { name: 'truncated recognition.onnx', role: 'recognition', bytes: () => half('recognition') },
];

/** A local dir whose one file is broken and the other a link to the good one. */
async function brokenPack(t: Test, kind: Kind): Promise<{ dir: string; path: string }> {
  const dir = await tmpDir(t);
  const pack = join(dir, MODEL, 'onnxrt', 'fp32');
  await mkdir(pack, { recursive: true });
  const other = kind.role === 'detection' ? 'recognition' : 'detection';
  await symlink(join(PACK, `${other}.onnx`), join(pack, `${other}.onnx`));
  const path = join(pack, `${kind.role}.onnx`);
  await writeFile(path, await kind.bytes());
  return { dir, path };
}

const env = (dir: string) => ({
  LUMEN_FACE_LOCAL_DIR: dir,
  LUMEN_FACE_MODEL_NAME: MODEL,
  LUMEN_FACE_PRECISION: 'fp32',
  LUMEN_FACE_OFFLINE: '1',
  LUMEN_FACE_PORT: '0',
  LUMEN_FACE_WORKERS: '2',
  LUMEN_FACE_CACHE_DIR: join(dir, 'cache'),
});

async function inGroups(count: number, start: () => Promise<Run>): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < count; i += AT_ONCE) {
    runs.push(...(await Promise.all(Array.from({ length: Math.min(AT_ONCE, count - i) }, start))));
  }
  return runs;
}

function clean(t: Test, runs: Run[], path: string, what: string) {
  for (const [i, run] of runs.entries()) {
    const label = `${what} #${i + 1}`;
    t.equal(run.code, 1, `${label}: exit 1`);
    // The server says it could not start (piped: as its one JSON line of level fatal); `check` and `info` name themselves.
    const text =
      what === 'start'
        ? run.stdout
            .split('\n')
            .filter((l) => l.includes('"level":60'))
            .map((l) => JSON.parse(l).msg)
            .join('\n')
        : run.stderr;
    t.match(text, /^lumen-face (could not start|check failed|info failed): the model pack could not be loaded\./, `${label}: the clean message`);
    t.match(text, `${path} (in LUMEN_FACE_LOCAL_DIR) does not load: `, `${label}: names the file`);
    t.match(text, /does not load: (the file is empty|not a complete ONNX graph)/, `${label}: says why`);
    t.match(text, 'Replace this file with a good copy', `${label}: says what to do`);
    t.notMatch(run.stderr + run.stdout, /Piscina|terminate called|Napi::Error|^\s+at /m, `${label}: no raw crash`);
  }
}

for (const kind of KINDS) {
  t.test(`${kind.name}: ${STARTS} starts, each a clean exit 1`, async (t) => {
    const { dir, path } = await brokenPack(t, kind);
    clean(t, await inGroups(STARTS, () => runNode(SERVER, [], env(dir))), path, 'start');
  });
  t.test(`${kind.name}: check and info give the same message`, async (t) => {
    const { dir, path } = await brokenPack(t, kind);
    clean(t, await inGroups(3, () => lumenFace(['check'], env(dir))), path, 'check');
    clean(t, await inGroups(3, () => lumenFace(['info'], env(dir))), path, 'info');
  });
}
