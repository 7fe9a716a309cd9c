// The addon's JS surface against the fake librknnrt.so: attributes, exact outputs, 64-bit
// handles, errors carrying function/code/codeName, failure injection, the library path, and the
// context pool.
import { join } from 'node:path';
import t from 'tap';
import {
  loadRknnAddon,
  RKNN_FLAG_COLLECT_PERF_MASK,
  RknnQuantType,
  RknnTensorFormat,
  RknnTensorType,
  type RknnOpenOptions,
} from '../../../src/engines/rknn/addon.js';
import { buildFakeRknn, fakeFold, readFakeTrace, writeFakeModel, type FakeModelSpec } from '../../fake-rknn/build.js';
import { failureOf, tempDir } from '../../helpers/native.js';

const libraryPath = buildFakeRknn();
const addon = loadRknnAddon();
const dir = tempDir('addon');
let serial = 0;

/** A `sum` model: UINT8 NHWC [1,4,4,3] in, [1,5] and [2,3] out. */
function sumModel(extra: Partial<FakeModelSpec> = {}): { path: string; trace: string } {
  const name = `m${serial++}`;
  const trace = join(dir, `${name}.trace`);
  const path = writeFakeModel(join(dir, `${name}.rknn`), {
    mode: 'sum',
    trace,
    inputs: [{ dims: [1, 4, 4, 3], type: 'UINT8', fmt: 'NHWC', name: 'images', qnt: 'AFFINE', zp: -14, scale: 0.0078125 }],
    outputs: [
      { dims: [1, 5], name: 'logits' },
      { dims: [2, 3], type: 'INT8', qnt: 'AFFINE', zp: 3, scale: 0.5, name: 'quantised' },
    ],
    ...extra,
  });
  return { path, trace };
}

const open = (path: string, opts: Partial<RknnOpenOptions> = {}) => addon.open(path, { libraryPath, ...opts });
const pixels = () => Uint8Array.from({ length: 48 }, (_, i) => (i * 37) % 256);

t.test('the struct sizes the addon was compiled with are the ABI ones', async (t) => {
  t.same(addon.abi, { tensorAttrSize: 376, inputSize: 32, outputSize: 24, contextSize: 8 });
});

t.test('open queries every attribute field and the SDK version', async (t) => {
  const m = open(sumModel().path);
  t.equal(m.inputs.length, 1);
  t.same(m.inputs[0], {
    index: 0,
    name: 'images',
    dims: [1, 4, 4, 3],
    fmt: RknnTensorFormat.NHWC,
    type: RknnTensorType.UINT8,
    qntType: RknnQuantType.AFFINE_ASYMMETRIC,
    zp: -14,
    scale: 0.0078125,
    nElems: 48,
    size: 48,
  });
  t.same(m.outputs[0], {
    index: 0,
    name: 'logits',
    dims: [1, 5],
    fmt: RknnTensorFormat.UNDEFINED,
    type: RknnTensorType.FLOAT32,
    qntType: RknnQuantType.NONE,
    zp: 0,
    scale: 1,
    nElems: 5,
    size: 20,
  });
  t.match(m.outputs[1], { index: 1, name: 'quantised', dims: [2, 3], type: RknnTensorType.INT8, zp: 3, scale: 0.5, nElems: 6, size: 6 });
  t.same(m.sdkVersion, { api: '2.3.0 (fake rknn api)', driver: '0.9.8-fake' });
  t.equal(m.contexts, 1);
  t.equal(m.coreMask, null);
  t.equal(m.libraryPath, libraryPath);
  await m.close();
});

t.test('run returns the exact floats, through 64-bit handles', async (t) => {
  const { path, trace } = sumModel();
  const m = open(path);
  const input = pixels();
  const out = await m.run([input], { inputs: [{ type: RknnTensorType.UINT8, fmt: RknnTensorFormat.NHWC }] });
  t.equal(out.length, 2);
  t.same(out[0], fakeFold(input, 5, 1));
  // The INT8 output is quantised with zp 3 and scale 0.5 by the runtime, then dequantised.
  const second = Array.from(fakeFold(input, 6, 2), (v) => Math.max(-128, Math.min(127, Math.round(v / 0.5) + 3)));
  t.same(
    Array.from(out[1]),
    second.map((q) => (q - 3) * 0.5),
  );
  t.equal(out.runDurationUs, undefined, 'no PERF_RUN without the flag');

  const calls = readFakeTrace(trace);
  const ctx = calls.find((c) => c.fn === 'rknn_init')!.ctx;
  t.ok(BigInt(ctx) > 2n ** 53n, `the context ${ctx} is above 2^53`);
  t.ok(
    calls.filter((c) => c.fn === 'rknn_run').every((c) => c.ctx === ctx && c.rc === 0),
    'runs used the full handle',
  );
  await m.close();
});

t.test('type and fmt default to the input attribute, and the runtime transposes', async (t) => {
  const m = open(sumModel().path);
  const input = pixels();
  t.same((await m.run([input]))[0], fakeFold(input, 5, 1), 'defaults: UINT8 NHWC');
  // The same pixels as planes, declared NCHW: the fake transposes them back to the model's NHWC.
  const planes = new Uint8Array(48);
  for (let i = 0; i < 16; i++) for (let c = 0; c < 3; c++) planes[c * 16 + i] = input[i * 3 + c];
  const out = await m.run([planes], { inputs: [{ fmt: RknnTensorFormat.NCHW }] });
  t.same(out[0], fakeFold(input, 5, 1));
  // FLOAT32 bytes: the runtime converts any type it is told about.
  const floats = Float32Array.from(input, (x) => x / 4);
  t.same((await m.run([floats], { inputs: [{ type: RknnTensorType.FLOAT32 }] }))[0], fakeFold(floats, 5, 1));
  await m.close();
});

t.test('input bytes are copied before the run is queued', async (t) => {
  const m = open(sumModel({ delayMs: 30 }).path);
  const input = pixels();
  const expected = fakeFold(input, 5, 1);
  const pending = m.run([input]);
  input.fill(0);
  t.same((await pending)[0], expected);
  await m.close();
});

t.test('a wrong input size is the runtime error, with function, code and codeName', async (t) => {
  const m = open(sumModel().path);
  const err = await failureOf(() => m.run([new Uint8Array(48)], { inputs: [{ type: RknnTensorType.FLOAT32 }] }));
  t.equal(err.function, 'rknn_inputs_set');
  t.equal(err.code, -5);
  t.equal(err.codeName, 'RKNN_ERR_PARAM_INVALID');
  t.match(err.message, /rknn_inputs_set.*RKNN_ERR_PARAM_INVALID.*-5/);
  t.same((await m.run([pixels()]))[0], fakeFold(pixels(), 5, 1), 'the context still works');
  await m.close();
});

t.test('bad run arguments are TypeErrors', async (t) => {
  const m = open(sumModel().path);
  t.match(await failureOf(() => m.run([])), { name: 'TypeError', message: /1 input\(s\), got 0/ });
  t.match(await failureOf(() => m.run(['x' as unknown as Uint8Array])), { name: 'TypeError' });
  t.match(await failureOf(() => m.run([pixels()], { inputs: [{ type: 'UINT8' as unknown as number }] })), { name: 'TypeError' });
  await m.close();
});

t.test('injected failures name the failing call', async (t) => {
  const cases: [string, string, string][] = [
    ['rknn_init:-6', 'rknn_init', 'RKNN_ERR_MODEL_INVALID'],
    ['rknn_query@0:-5', 'rknn_query', 'RKNN_ERR_PARAM_INVALID'],
    ['rknn_query@1:-3', 'rknn_query', 'RKNN_ERR_DEVICE_UNAVAILABLE'],
    ['rknn_query@2:-4', 'rknn_query', 'RKNN_ERR_MALLOC_FAIL'],
    ['rknn_query@5:-1', 'rknn_query', 'RKNN_ERR_FAIL'],
    ['rknn_dup_context:-4', 'rknn_dup_context', 'RKNN_ERR_MALLOC_FAIL'],
    ['rknn_set_core_mask:-10', 'rknn_set_core_mask', 'RKNN_ERR_DEVICE_UNMATCH'],
  ];
  for (const [fail, fn, codeName] of cases) {
    const { path, trace } = sumModel({ fail: [fail] });
    const err = await failureOf(() => open(path, { contexts: 2, coreMask: 3 }));
    t.match(err, { function: fn, codeName }, fail);
    t.match(err.message, new RegExp(`^${fn} failed: ${codeName} \\(-\\d+\\)`));
    const calls = readFakeTrace(trace);
    const created = calls.filter((c) => c.rc === 0 && (c.fn === 'rknn_init' || c.fn === 'rknn_dup_context')).length;
    const destroyed = calls.filter((c) => c.fn === 'rknn_destroy' && c.rc === 0).length;
    t.equal(destroyed, created, `${fail}: every context created was destroyed`);
  }
  t.equal((await failureOf(() => open(join(dir, 'missing.rknn')))).code, -6, 'a missing model file');

  const runCases: [string, string, number][] = [
    ['rknn_inputs_set:-8:2', 'rknn_inputs_set', -8],
    ['rknn_run:-7:2', 'rknn_run', -7],
    ['rknn_run:-2:2', 'rknn_run', -2],
    ['rknn_outputs_get:-9:2', 'rknn_outputs_get', -9],
    ['rknn_outputs_release:-1:2', 'rknn_outputs_release', -1],
    ['rknn_query@4:-5:2', 'rknn_query', -5],
  ];
  for (const [fail, fn, code] of runCases) {
    const m = open(sumModel({ fail: [fail] }).path, { flags: RKNN_FLAG_COLLECT_PERF_MASK });
    await m.run([pixels()]);
    const err = await failureOf(() => m.run([pixels()]));
    t.match(err, { function: fn, code }, fail);
    t.same((await m.run([pixels()]))[0], fakeFold(pixels(), 5, 1), `${fail}: the next run works`);
    await m.close();
  }
});

t.test('PERF_RUN is read after each run when the model collects it', async (t) => {
  const { path, trace } = sumModel({ perfUs: 1234 });
  const m = open(path, { flags: RKNN_FLAG_COLLECT_PERF_MASK });
  t.equal(m.flags, RKNN_FLAG_COLLECT_PERF_MASK);
  t.equal((await m.run([pixels()])).runDurationUs, 1234);
  t.match(readFakeTrace(trace).find((c) => c.fn === 'rknn_init')!.line, /flags=0x8 /);
  await m.close();
});

t.test('core masks: set on every context after the dups, or not at all', async (t) => {
  const masked = sumModel();
  const m = open(masked.path, { contexts: 3, coreMask: 7 });
  t.equal(m.coreMask, 7);
  await m.close();
  const order = readFakeTrace(masked.trace).map((c) => c.fn);
  t.same(order.slice(0, 6), ['rknn_init', 'rknn_dup_context', 'rknn_dup_context', 'rknn_set_core_mask', 'rknn_set_core_mask', 'rknn_set_core_mask']);
  t.equal(
    new Set(
      readFakeTrace(masked.trace)
        .filter((c) => c.fn === 'rknn_set_core_mask')
        .map((c) => c.ctx),
    ).size,
    3,
  );

  const auto = sumModel({ soc: 'rk3568' });
  const plain = open(auto.path, { contexts: 2 });
  t.equal(plain.coreMask, null);
  await plain.close();
  t.notOk(
    readFakeTrace(auto.trace).some((c) => c.fn === 'rknn_set_core_mask'),
    'no coreMask, no call',
  );
  t.match(await failureOf(() => open(sumModel({ soc: 'rk3568' }).path, { coreMask: 1 })), { function: 'rknn_set_core_mask', code: -1 });
});

t.test('a missing library names the path tried', async (t) => {
  const missing = join(dir, 'no-such-librknnrt.so');
  const err = await failureOf(() => open(sumModel().path, { libraryPath: missing }));
  t.match(err.message, missing);
  t.match(err.message, /cannot load the RKNN runtime library/);
  t.match(err.message, /No such file/, 'with dlerror()');
  t.equal(err.libraryPath, missing);

  const byName = await failureOf(() => open(sumModel().path, { libraryPath: 'librknnrt.so' }));
  t.match(byName.message, '"librknnrt.so"', 'a bare name goes through the default search path');
  const unnamed = await failureOf(() => addon.open(sumModel().path, {} as RknnOpenOptions));
  t.match(unnamed, { name: 'TypeError', message: /libraryPath must be a string/ }, 'the library is always named by the caller');
});

t.test('a library without the RKNN symbols is refused by name', async (t) => {
  const err = await failureOf(() => open(sumModel().path, { libraryPath: 'libm.so.6' }));
  t.match(err.message, /has no symbol rknn_init/);
});

t.test('bad open options', async (t) => {
  const { path } = sumModel();
  t.match(await failureOf(() => open(path, { contexts: 0 })), { name: 'RangeError' });
  t.match(await failureOf(() => open(path, { contexts: 1.5 })), { name: 'TypeError' });
  t.match(await failureOf(() => open(path, { coreMask: -1 })), { name: 'RangeError' });
});

t.test('after close, runs are refused and close is idempotent', async (t) => {
  const m = open(sumModel().path);
  await m.close();
  await m.close();
  t.match(await failureOf(() => m.run([pixels()])), { message: /is closed/ });
});

// ---- the context pool ---------------------------------------------------------------------------
// Runs never overlap on one context, use every context, queue beyond them, and close() waits for
// them before destroying the dups and then the original.

function poolModel(delayMs: number) {
  const name = `pool${serial++}`;
  const trace = join(dir, `${name}.trace`);
  const path = writeFakeModel(join(dir, `${name}.rknn`), {
    mode: 'sum',
    delayMs,
    trace,
    inputs: [{ dims: [1, 8], type: 'UINT8' }],
    outputs: [{ dims: [1, 4] }],
  });
  return { path, trace };
}

const inputFor = (i: number) => Uint8Array.from({ length: 8 }, (_, j) => (i * 8 + j) % 256);

/** Per context, the calls of each run must come as one uninterrupted sequence. */
function runSequences(trace: string) {
  const RUN = ['rknn_inputs_set', 'rknn_run', 'rknn_outputs_get', 'rknn_outputs_release'];
  const perContext = new Map<string, string[]>();
  for (const c of readFakeTrace(trace)) {
    if (!RUN.includes(c.fn)) continue;
    perContext.set(c.ctx, [...(perContext.get(c.ctx) ?? []), c.fn]);
  }
  const wellFormed = [...perContext.values()].every((fns) => fns.every((fn, i) => fn === RUN[i % 4]));
  return { contexts: perContext.size, wellFormed };
}

const maxParallel = (trace: string) => Math.max(0, ...readFakeTrace(trace).map((c) => Number(/parallel=(\d+)/.exec(c.line)?.[1] ?? 0)));

t.test('with 3 contexts, 12 concurrent runs use all 3, never 2 at once on one, and all complete', async (t) => {
  const { path, trace } = poolModel(25);
  const m = open(path, { contexts: 3 });
  t.equal(m.contexts, 3);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => m.run([inputFor(i)])));
  for (const [i, out] of results.entries()) t.same(out[0], fakeFold(inputFor(i), 4), `run ${i}`);
  await m.close();

  t.equal(maxParallel(trace), 3, '3 runs in parallel, never more');
  const seq = runSequences(trace);
  t.equal(seq.contexts, 3, 'every context served runs');
  t.ok(seq.wellFormed, 'each run held its context from inputs_set to outputs_release');
  t.notOk(readFakeTrace(trace).some((c) => /CONCURRENT-USE|UNKNOWN-CONTEXT/.test(c.line)));
});

t.test('with 1 context, runs queue one after another', async (t) => {
  const { path, trace } = poolModel(10);
  const m = open(path);
  const results = await Promise.all(Array.from({ length: 5 }, (_, i) => m.run([inputFor(i)])));
  for (const [i, out] of results.entries()) t.same(out[0], fakeFold(inputFor(i), 4));
  await m.close();
  t.equal(maxParallel(trace), 1);
  t.ok(runSequences(trace).wellFormed);
});

t.test('a failing run hands its context on', async (t) => {
  const { path } = poolModel(5);
  const m = open(path, { contexts: 2 });
  const runs = Array.from({ length: 6 }, (_, i) => (i % 2 ? m.run([new Uint8Array(3)]) : m.run([inputFor(i)])));
  const settled = await Promise.allSettled(runs);
  t.same(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected'],
  );
  t.same((await m.run([inputFor(9)]))[0], fakeFold(inputFor(9), 4));
  await m.close();
});

t.test('close waits for in-flight and queued runs, then destroys the dups before the original', async (t) => {
  const { path, trace } = poolModel(30);
  const m = open(path, { contexts: 3 });
  const events: string[] = [];
  const runs = Array.from({ length: 5 }, (_, i) =>
    m.run([inputFor(i)]).then((out) => {
      events.push(`run ${i}`);
      return out;
    }),
  );
  const closing = m.close().then(() => events.push('closed'));
  t.match(await failureOf(() => m.run([inputFor(0)])), { message: /is closed/ }, 'no new runs once closing');
  await Promise.all([closing, ...runs]);
  t.equal(events.length, 6);
  t.equal(events[5], 'closed', 'close resolved after every run');
  for (const [i, out] of (await Promise.all(runs)).entries()) t.same(out[0], fakeFold(inputFor(i), 4));

  const calls = readFakeTrace(trace);
  const init = calls.find((c) => c.fn === 'rknn_init')!;
  const dups = calls.filter((c) => c.fn === 'rknn_dup_context').map((c) => /out=(0x[0-9a-f]+)/.exec(c.line)![1]);
  const destroys = calls.filter((c) => c.fn === 'rknn_destroy');
  t.same(
    destroys.map((c) => c.ctx),
    [...dups].reverse().concat(init.ctx),
    'dups first, the original last',
  );
  t.ok(destroys.every((c) => c.rc === 0));
  const lastRelease = calls.map((c) => c.fn).lastIndexOf('rknn_outputs_release');
  t.ok(calls.indexOf(destroys[0]) > lastRelease, 'nothing destroyed before the last run finished');
});

t.test('close without runs destroys at once; a second close resolves', async (t) => {
  const { path, trace } = poolModel(0);
  const m = open(path, { contexts: 2 });
  await Promise.all([m.close(), m.close()]);
  await m.close();
  t.equal(readFakeTrace(trace).filter((c) => c.fn === 'rknn_destroy').length, 2);
});
