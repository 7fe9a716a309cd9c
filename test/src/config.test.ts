import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { configProblems } from '../helpers/config.js';
import { loadConfig, VARIABLES } from '../../src/config.js';

const problemsOf = configProblems;

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.runtime, 'onnxrt');
  t.equal(c.device, 'cpu');
  t.equal(c.modelName, 'scrfd_10g_iresnet50');
  t.equal(c.precision, 'fp16');
  t.equal(c.repoBase, 'https://huggingface.co/Lumilio-Photos');
  t.equal(c.localDir, undefined);
  t.equal(c.timeout, 30);
  t.equal(c.maxBatchSize, 8);
  t.equal(c.supportsImageBatch, false);
  t.same(c.extra, {});
  t.equal(c.cacheDir, path.join(os.homedir(), '.cache', 'lumen_face'));
  t.equal(c.host, '127.0.0.1');
  t.equal(c.port, 8000);
  t.equal(c.revision, 'main');
  t.equal(c.offline, false);
  t.equal(c.hfToken, undefined);
  t.equal(c.maxUploadBytes, 32 * 1024 * 1024);
  t.equal(c.maxPixels, 100_000_000);
  t.equal(c.maxBoxes, 256);
  t.equal(c.maxInflight, 32);
  t.equal(c.detSize, 640);
  t.equal(c.logLevel, 'info');
  t.equal(c.rknnLibrary, 'librknnrt.so');
  const cpus = os.availableParallelism();
  t.equal(c.workers, Math.min(cpus, 4));
  t.equal(c.intraOpThreads, Math.max(1, Math.floor(cpus / c.workers)));
});

t.test('thread defaults follow the core count and the parsed worker count', async (t) => {
  const threads = (env: Record<string, string>, cpus: number) => {
    const c = loadConfig(env, cpus);
    return [c.workers, c.intraOpThreads];
  };
  t.same(threads({}, 1), [1, 1]);
  t.same(threads({}, 2), [2, 1], 'one single-threaded worker per core on small machines');
  t.same(threads({}, 16), [4, 4], 'at most 4 workers; the other cores go to intra-op threads');
  t.same(threads({ LUMEN_FACE_WORKERS: '1' }, 16), [1, 16], 'intra-op threads from the workers given, not the default');
  t.same(threads({ LUMEN_FACE_WORKERS: ' 3 ' }, 16), [3, 5]);
  t.same(threads({ LUMEN_FACE_WORKERS: '32' }, 16), [32, 1]);
  t.same(threads({ LUMEN_FACE_INTRA_OP_THREADS: '3' }, 16), [4, 3], 'a given intra-op count is kept');
  t.equal(loadConfig({}).inferenceNice, 10);
  t.equal(loadConfig({ LUMEN_FACE_INFERENCE_NICE: '0' }).inferenceNice, 0);
  t.match(problemsOf({ LUMEN_FACE_INFERENCE_NICE: '20' })[0], /LUMEN_FACE_INFERENCE_NICE is invalid: expected an integer from 0 to 19; received "20"/);
});

t.test('the device default follows the parsed runtime', async (t) => {
  t.equal(loadConfig({ LUMEN_FACE_RUNTIME: ' RKNN ' }).device, 'rknpu');
  t.equal(loadConfig({ LUMEN_FACE_RUNTIME: '', LUMEN_FACE_BACKEND: 'rknn' }).device, 'rknpu', 'an empty variable is unset, so the alias decides');
  t.equal(loadConfig({ LUMEN_FACE_BACKEND: 'onnxrt' }).device, 'cpu');
  t.equal(loadConfig({ LUMEN_FACE_RUNTIME: 'rknn', LUMEN_FACE_DEVICE: 'rknpu1' }).device, 'rknpu1', 'a given device is kept');
});

t.test('valid values', async (t) => {
  const c = loadConfig({
    LUMEN_FACE_RUNTIME: 'RKNN',
    LUMEN_FACE_DEVICE: 'rknpu2',
    LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf',
    LUMEN_FACE_PRECISION: 'fp32',
    LUMEN_FACE_REPO_BASE: 'http://mirror.local/models/',
    LUMEN_FACE_LOCAL_DIR: '/models',
    LUMEN_FACE_TIMEOUT: '2.5',
    LUMEN_FACE_MAX_BATCH_SIZE: '16',
    LUMEN_FACE_SUPPORTS_IMAGE_BATCH: 'YES',
    LUMEN_FACE_EXTRA:
      '{"rec_input_h": "128", "rec_input_w": 96, "rknn_target": "RK3588", "rknn_core_mask": "core_0_1", "rknn_contexts": 3, "rknn_perf_debug": "on", "rknn_device_id": 7, "custom": [1]}',
    LUMEN_FACE_CACHE_DIR: '/tmp/c',
    LUMEN_FACE_HOST: '0.0.0.0',
    LUMEN_FACE_PORT: '9000',
    LUMEN_FACE_REVISION: 'v1.2',
    LUMEN_FACE_OFFLINE: 'off',
    LUMEN_FACE_HF_TOKEN: 'hf_x',
    HF_ENDPOINT: 'https://hf-mirror.com',
    LUMEN_FACE_MAX_UPLOAD_BYTES: '1000',
    LUMEN_FACE_MAX_PIXELS: '2000',
    LUMEN_FACE_MAX_BOXES: '3',
    LUMEN_FACE_MAX_INFLIGHT: '5',
    LUMEN_FACE_DET_SIZE: '320',
    LUMEN_FACE_WORKERS: '2',
    LUMEN_FACE_INTRA_OP_THREADS: '4',
    LUMEN_FACE_RKNN_LIBRARY: '/usr/lib/librknnrt.so',
    LUMEN_FACE_LOG_LEVEL: 'debug',
  });
  t.equal(c.runtime, 'rknn');
  t.equal(c.device, 'rknpu2');
  t.equal(c.precision, 'fp32');
  t.equal(c.repoBase, 'http://mirror.local/models', 'trailing slash removed');
  t.equal(c.timeout, 2.5);
  t.equal(c.maxBatchSize, 16);
  t.equal(c.supportsImageBatch, true);
  t.same(c.extra, {
    rec_input_h: 128,
    rec_input_w: 96,
    rknn_target: 'rk3588',
    rknn_core_mask: 3,
    rknn_contexts: 3,
    rknn_perf_debug: true,
    rknn_device_id: '7',
    custom: [1],
  });
  t.equal(c.port, 9000);
  t.equal(c.offline, false);
  t.equal(c.hfToken, 'hf_x');
  t.equal(c.hfEndpoint, 'https://hf-mirror.com');
  t.equal(c.detSize, 320);
  t.equal(c.maxInflight, 5);
  t.equal(c.workers, 2);
  t.equal(c.intraOpThreads, 4);
  t.equal(c.logLevel, 'debug');
});

t.test('aliases', async (t) => {
  t.equal(loadConfig({ LUMEN_FACE_BACKEND: 'rknn' }).runtime, 'rknn');
  t.equal(loadConfig({ LUMEN_FACE_BACKEND: 'rknn' }).device, 'rknpu', 'rknn defaults the device to rknpu');
  t.equal(loadConfig({ HF_HUB_OFFLINE: '1' }).offline, true);
  t.equal(loadConfig({ HF_TOKEN: 'abc' }).hfToken, 'abc');
  t.equal(loadConfig({ LUMEN_FACE_HF_TOKEN: 'mine', HF_TOKEN: 'abc' }).hfToken, 'mine', 'the LUMEN_FACE_ name wins');
  t.equal(loadConfig({ LUMEN_FACE_DEVICE: 'cuda:1' }).device, 'cuda:1');
  t.match(problemsOf({ LUMEN_FACE_RUNTIME: 'onnxrt', LUMEN_FACE_BACKEND: 'rknn' })[0], /LUMEN_FACE_RUNTIME="onnxrt" and LUMEN_FACE_BACKEND="rknn" disagree/);
});

t.test('booleans accept exactly the documented words, in any case', async (t) => {
  for (const yes of ['1', 'true', 'YES', 'On']) t.equal(loadConfig({ LUMEN_FACE_OFFLINE: yes }).offline, true, yes);
  for (const no of ['0', 'FALSE', 'no', 'off']) t.equal(loadConfig({ LUMEN_FACE_OFFLINE: no }).offline, false, no);
  for (const bad of ['y', 'enabled', '2']) {
    t.match(
      problemsOf({ LUMEN_FACE_SUPPORTS_IMAGE_BATCH: bad })[0],
      new RegExp(`^LUMEN_FACE_SUPPORTS_IMAGE_BATCH is invalid: expected a boolean: 1/true/yes/on or 0/false/no/off \\(any case\\); received "${bad}"$`),
    );
  }
});

t.test('invalid values name the variable, the value and what is accepted', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['LUMEN_FACE_RUNTIME', 'tensorrt', /one of onnxrt, rknn/],
    ['LUMEN_FACE_DEVICE', 'gpu', /cpu, cuda, cuda:N, rknpu or rknpuN/],
    ['LUMEN_FACE_DEVICE', 'cuda:x', /cpu, cuda, cuda:N/],
    ['LUMEN_FACE_PRECISION', 'fp8', /one of fp16, int8, fp32/],
    ['LUMEN_FACE_REPO_BASE', 'ftp://x', /http\(s\) URL/],
    ['LUMEN_FACE_REPO_BASE', 'not a url', /http\(s\) URL/],
    ['LUMEN_FACE_TIMEOUT', '0', /positive number of seconds/],
    ['LUMEN_FACE_TIMEOUT', 'soon', /positive number of seconds/],
    ['LUMEN_FACE_MAX_BATCH_SIZE', '0', /integer from 1/],
    ['LUMEN_FACE_MAX_BATCH_SIZE', '2.5', /integer from 1/],
    ['LUMEN_FACE_EXTRA', '[1,2]', /a JSON object/],
    ['LUMEN_FACE_EXTRA', '{nope', /a JSON object/],
    ['LUMEN_FACE_EXTRA', '{"rec_input_h": 0}', /key "rec_input_h" to be a positive integer/],
    ['LUMEN_FACE_EXTRA', '{"rec_input_w": "big"}', /key "rec_input_w" to be a positive integer/],
    ['LUMEN_FACE_EXTRA', '{"rknn_core_mask": 5}', /key "rknn_core_mask" to be an RKNN core mask/],
    ['LUMEN_FACE_EXTRA', '{"rknn_perf_debug": "maybe"}', /key "rknn_perf_debug" to be a boolean/],
    ['LUMEN_FACE_PORT', '70000', /TCP port from 0 to 65535/],
    ['LUMEN_FACE_DET_SIZE', '600', /multiple of 32/],
    ['LUMEN_FACE_MAX_UPLOAD_BYTES', '-1', /integer from 1/],
    ['LUMEN_FACE_MAX_PIXELS', 'lots', /integer from 1/],
    ['LUMEN_FACE_MAX_BOXES', '0', /integer from 1 to 10000/],
    ['LUMEN_FACE_MAX_INFLIGHT', '0', /integer from 1/],
    ['LUMEN_FACE_WORKERS', '0', /integer from 1 to 256/],
    ['LUMEN_FACE_INTRA_OP_THREADS', 'x', /integer from 1 to 256/],
    ['LUMEN_FACE_LOG_LEVEL', 'loud', /one of fatal, error, warn, info, debug, trace, silent/],
    ['LUMEN_FACE_MODEL_NAME', '  ', /pack name/],
    ['HF_ENDPOINT', 'mirror', /http\(s\) URL/],
  ];
  for (const [name, value, accepts] of cases) {
    const problems = problemsOf({ [name]: value });
    t.equal(problems.length, 1, `${name}=${value} gives one problem`);
    t.ok(problems[0].startsWith(`${name} is invalid: expected`), problems[0]);
    t.ok(problems[0].endsWith(`; received ${JSON.stringify(value)}`), problems[0]);
    t.match(problems[0], accepts);
  }
});

t.test('runtime and device must fit together', async (t) => {
  t.match(problemsOf({ LUMEN_FACE_RUNTIME: 'rknn', LUMEN_FACE_DEVICE: 'cuda' })[0], /does not fit LUMEN_FACE_RUNTIME=rknn/);
  t.match(problemsOf({ LUMEN_FACE_DEVICE: 'rknpu' })[0], /does not fit LUMEN_FACE_RUNTIME=onnxrt/);
});

t.test('every problem is reported at once', async (t) => {
  const problems = problemsOf({ LUMEN_FACE_PORT: 'x', LUMEN_FACE_TIMEOUT: '-1' });
  t.equal(problems.length, 2);
});

t.test('every variable has a name, a documented default and a description', async (t) => {
  for (const [key, variable] of Object.entries(VARIABLES)) {
    t.ok(variable.names.length > 0 && variable.doc.length > 0 && variable.description.length > 0, key);
  }
});
