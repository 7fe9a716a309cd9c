import { spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import { MODELS_DIR } from '../helpers/fixtures.js';
import { tmpDir } from '../helpers/models.js';
import { runNode, SERVER } from '../helpers/cli.js';

/** The first start of `npm start`, as a person sees it. */

t.test('an invalid LUMEN_FACE_MODEL_NAME exits 2 and names the variable', async (t) => {
  for (const name of ['../etc', 'a/b']) {
    const run = await runNode(SERVER, [], { LUMEN_FACE_MODEL_NAME: name, LUMEN_FACE_PORT: '0' });
    t.equal(run.code, 2, name);
    t.match(run.stderr, 'LUMEN_FACE_MODEL_NAME is invalid: expected a pack name');
    t.match(run.stderr, `; received ${JSON.stringify(name)}`);
    t.notMatch(run.stdout, /listening/i);
  }
});

/** The failure as the one JSON line of level fatal on stdout says it, and every other line parsed. */
function jsonFailure(t: Test, stdout: string): string {
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
  const fatal = lines.filter((l) => l.level >= 50);
  t.equal(fatal.length, 1, 'one error line');
  t.notOk(fatal[0].err, 'without a stack');
  return `${fatal[0].msg}\n`;
}

t.test('a pack that cannot be reached, piped: the explanation once, as one JSON line; exit non-zero', async (t) => {
  const cache = await tmpDir(t);
  // Port 9 on 127.0.0.1 refuses connections: the network error of a machine without access.
  const run = await runNode(SERVER, [], { LUMEN_FACE_CACHE_DIR: cache, LUMEN_FACE_REPO_BASE: 'http://127.0.0.1:9/org', LUMEN_FACE_PORT: '0' });
  t.not(run.code, 0);
  t.equal(run.stderr, '', 'nothing else on stderr');
  explained(t, jsonFailure(t, run.stdout));
  t.match(run.stdout, /still loading the model pack/, 'listening was announced as still loading');
});

t.test('a pack that cannot be reached, on a terminal: the explanation once, as text', async (t) => {
  const run = await runNode(SERVER, [], {
    LUMEN_FACE_CACHE_DIR: await tmpDir(t),
    LUMEN_FACE_REPO_BASE: 'http://127.0.0.1:9/org',
    LUMEN_FACE_PORT: '0',
    LUMEN_FACE_LOG_FORMAT: 'pretty',
  });
  t.not(run.code, 0);
  explained(t, run.stderr);
  t.notMatch(run.stdout, /ECONNREFUSED|could not be (loaded|downloaded)/, 'the log does not say it again');
});

function explained(t: Test, text: string) {
  const lines = text.split('\n');
  t.equal(lines[0], 'lumen-face could not start: the model pack could not be downloaded.');
  t.match(
    text,
    /could not be downloaded\. Places tried:\n {2}local: LUMEN_FACE_LOCAL_DIR not set\n {2}cache: .*detection\.onnx \(not found\)\n {2}remote: http:\/\/127\.0\.0\.1:9\/org\/scrfd_10g_iresnet50\/onnxrt\/fp16\/detection\.onnx \(network error: connect ECONNREFUSED 127\.0\.0\.1:9\)/,
  );
  t.equal(text.match(/ECONNREFUSED/g)?.length, 1, 'the network error once');
  t.match(text, 'set LUMEN_FACE_LOCAL_DIR to a folder with the pack');
  t.match(text, 'or run `lumen-face fetch` (in a clone: `npm run cli -- fetch`) where the network is reachable');
  t.match(
    text,
    'or use an immich or insightface pack (`LUMEN_FACE_MODEL_NAME=buffalo_l LUMEN_FACE_PACK_LAYOUT=immich`, from https://huggingface.co/immich-app)',
  );
}

t.test('pretty logs on request; probes are not logged at info', async (t) => {
  const child = spawn(process.execPath, [SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LUMEN_FACE_LOG_FORMAT: 'pretty',
      LUMEN_FACE_PORT: '0',
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_WORKERS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match && /INFO.*: ready/.test(out)) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    void exited.then(() => reject(new Error(`exited early:\n${out}`)));
  });
  t.match(out, /^\[\d\d:\d\d:\d\d\] INFO: /m, 'human-readable lines');
  t.notMatch(out, /^\{"level"/m, 'no JSON');
  const before = out.length;
  await fetch(`${address}/healthz`);
  await fetch(`${address}/readyz`);
  await fetch(`${address}/v1/info`);
  await new Promise((r) => setTimeout(r, 300));
  const logged = out.slice(before);
  t.match(logged, /\/v1\/info/, 'an ordinary request is logged');
  t.notMatch(logged, /\/healthz|\/readyz/, 'the probes are not');
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});
