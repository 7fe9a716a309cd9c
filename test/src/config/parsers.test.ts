import t from 'tap';
import { configProblems } from '../../helpers/config.js';
import { createBackend } from '../../../src/backend.js';
import { loadConfig, parseOptions, VARIABLES } from '../../../src/config.js';
import { LumenError } from '../../../src/errors.js';
import { parseDetectOptions } from '../../../src/pipeline/options.js';

/** Environment numbers read with the query knobs' grammar, defaults written once, createBackend options parsed alike. */

const problemsOf = configProblems;

t.test('environment numbers refuse what Number() would take', async (t) => {
  const refused: [string, string][] = [
    ['LUMEN_FACE_TIMEOUT', '0x1e'],
    ['LUMEN_FACE_TIMEOUT', '1e3'],
    ['LUMEN_FACE_TIMEOUT', 'Infinity'],
    ['LUMEN_FACE_TIMEOUT', '0b11'],
    ['LUMEN_FACE_SHUTDOWN_TIMEOUT', '8.'.repeat(2)],
    ['LUMEN_FACE_REQUEST_TIMEOUT', '-5'],
    ['LUMEN_FACE_UPLOAD_TIMEOUT', '0'],
    ['LUMEN_FACE_MATCH_THRESHOLD', '4e-1'],
    ['LUMEN_FACE_MATCH_THRESHOLD', '0x0'],
    ['LUMEN_FACE_MATCH_THRESHOLD', '1.5'],
    ['LUMEN_FACE_PORT', '0x1f40'],
    ['LUMEN_FACE_PORT', '8e3'],
    ['LUMEN_FACE_MAX_PIXELS', '1e8'],
    ['LUMEN_FACE_WORKERS', '2.0'],
    ['LUMEN_FACE_MAX_UPLOAD_BYTES', '99999999999999999999'],
  ];
  for (const [name, value] of refused) {
    const problems = problemsOf({ [name]: value });
    t.equal(problems.length, 1, `${name}=${value} is refused`);
    t.match(problems[0], `${name} is invalid: expected `);
    t.match(problems[0], `; received ${JSON.stringify(value)}`);
  }
  const c = loadConfig({ LUMEN_FACE_TIMEOUT: ' 2.5 ', LUMEN_FACE_SHUTDOWN_TIMEOUT: '.5', LUMEN_FACE_MATCH_THRESHOLD: '-0.25', LUMEN_FACE_PORT: '+8080' });
  t.same([c.timeout, c.shutdownTimeout, c.matchThreshold, c.port], [2.5, 0.5, -0.25, 8080], 'plain decimals and digits are read');
});

t.test("the grammar is the query knobs' grammar", async (t) => {
  for (const text of ['0x1e', '1e3', 'Infinity', '']) {
    t.throws(() => parseDetectOptions({ min_size: text }), { code: 'INVALID_OPTION' }, `min_size ${JSON.stringify(text)}`);
    t.match(problemsOf({ LUMEN_FACE_TIMEOUT: text || ' ' })[0] ?? '', /LUMEN_FACE_TIMEOUT is invalid/, `LUMEN_FACE_TIMEOUT ${JSON.stringify(text)}`);
  }
  t.equal(parseDetectOptions({ min_size: ' 2.5 ' }).min_size, 2.5);
});

t.test('each default is written once: the README text comes from the value', async (t) => {
  const docs = Object.fromEntries(Object.entries(VARIABLES).map(([k, v]) => [k, v.doc]));
  const values = loadConfig({}, 2);
  t.equal(docs.port, String(values.port));
  t.equal(docs.maxUploadBytes, `${values.maxUploadBytes} (32 MiB)`);
  t.equal(docs.offline, 'false');
  t.equal(docs.localDir, 'unset');
  t.equal(docs.extra, 'unset', 'no extras');
  t.equal(docs.corsOrigins, 'unset (no CORS headers)');
  for (const [key, variable] of Object.entries(VARIABLES)) {
    const d = variable.default;
    if (d.kind === 'value') t.ok(docs[key].startsWith(d.value === undefined || key === 'extra' ? 'unset' : String(d.value)), `${key}: doc from value`);
    else t.ok(d.doc.length > 0, `${key}: a ${d.kind} default says how it is decided`);
  }
  t.equal(VARIABLES.workers.default.kind, 'derived');
  t.equal(VARIABLES.intraOpThreads.default.kind, 'derived');
  t.equal(VARIABLES.device.default.kind, 'derived');
});

t.test('createBackend options go through the same parse, and reject in the one phrasing', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ workers: 0 }, 'workers is invalid: expected an integer from 1 to 256; received 0'],
    [{ workers: 2.5 }, 'workers is invalid: expected an integer from 1 to 256; received 2.5'],
    [{ detSize: 600 }, 'detSize is invalid: expected a multiple of 32 from 32 to 4096; received 600'],
    [{ timeout: Infinity }, 'timeout is invalid: expected a positive number of seconds, e.g. 30 or 2.5; received Infinity'],
    [{ port: 1e21 }, 'port is invalid: expected a TCP port from 0 to 65535; received 1e+21'],
    [{ runtime: 'cuda' }, 'runtime is invalid: expected one of onnxrt, rknn; received "cuda"'],
    [{ modelName: '../etc' }, 'modelName is invalid: expected a pack name'],
    [{ extra: { rknn_contexts: 0 } }, 'extra is invalid: expected key "rknn_contexts" to be a positive integer'],
    [{ extra: { rknn_core_mask: 5 } }, 'extra is invalid: expected key "rknn_core_mask" to be an RKNN core mask'],
    [{ hfToken: ' ' }, 'hfToken is invalid: expected a token; received "(hidden)"'],
  ];
  for (const [options, message] of cases) {
    const err = await createBackend({ ...options, localDir: '/nonexistent', offline: true } as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof LumenError, JSON.stringify(options));
    t.match(err, { code: 'INVALID_OPTION', status: 400 });
    t.match((err as Error).message, message);
  }
});

t.test('options count as given: the defaults derived from them follow', async (t) => {
  const options = parseOptions({ runtime: 'rknn', workers: 2, extra: { rknn_contexts: '3', rknn_core_mask: 'core_0_1' } });
  const c = loadConfig({}, 16, options);
  t.equal(c.device, 'rknpu', 'the device follows the runtime option');
  t.same([c.workers, c.intraOpThreads], [2, 8], 'intra-op threads follow the workers option');
  t.same(c.extra, { rknn_contexts: 3, rknn_core_mask: 3 });
  t.throws(() => loadConfig({}, 2, parseOptions({ runtime: 'rknn', device: 'cuda' })), /does not fit LUMEN_FACE_RUNTIME=rknn/);
});
