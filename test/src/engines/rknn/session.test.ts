// The pack's models on the RKNN runtime (RKNN sessions under the SCRFD and ArcFace families) against
// the fake librknnrt.so: how each input type and layout is fed (the outputs are exact functions of
// what it fed), the canned SCRFD face through the shared decoder, the board checks, contexts, perf
// logging and errors.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LumenError } from '../../../../src/errors.js';
import { decodeScrfd } from '../../../../src/face/scrfd.js';
import { toFloat16, type RknnOptions } from '../../../../src/engines/rknn/session.js';
import { rgbToNchw, rgbToNhwc } from '../../../../src/face/tensor-layout.js';
import { openFaceModels } from '../../../../src/pipeline/face-models.js';
import { silentLogger, type Logger } from '../../../../src/types.js';
import {
  buildFakeRknn,
  FAKE_SCRFD_FACES_640,
  fakeEmbedding,
  fakeFold,
  readFakeTrace,
  writeFakeModel,
  writeFakeRecognitionModel,
  writeFakeRknnPack,
  writeFakeScrfdModel,
  type FakeModelSpec,
} from '../../../fake-rknn/build.js';
import { captureLogger, failureOf, tempDir } from '../../../helpers/native.js';
import { pseudoRandomBytes } from '../../../helpers/random.js';

const libraryPath = buildFakeRknn();
const dir = tempDir('engine');
const noBoard = join(dir, 'no-compatible-file');
let serial = 0;
const fresh = (name: string) => join(dir, `${serial++}-${name}`);

function pack(opts: Parameters<typeof writeFakeRknnPack>[1] = {}) {
  return writeFakeRknnPack(fresh('pack'), opts);
}

interface Options extends RknnOptions {
  detectionPath: string;
  recognitionPath: string;
  detSize: number;
  recInputSize?: { height?: number; width?: number };
}

function options(paths: { detection: string; recognition: string }, extra: Partial<Options> = {}): Options {
  return {
    detectionPath: paths.detection,
    recognitionPath: paths.recognition,
    detSize: 640,
    contexts: 1,
    perfDebug: false,
    libraryPath,
    compatiblePath: noBoard,
    ...extra,
  };
}

const openRknnModels = ({ detectionPath, recognitionPath, detSize, recInputSize, ...rknn }: Options, log: Logger) =>
  openFaceModels({ runtime: 'rknn', detectionPath, recognitionPath, device: 'rknpu', detSize, recInputSize, intraOpThreads: 1, rknn }, log);

function compatible(...entries: string[]): string {
  const path = fresh('compatible');
  writeFileSync(path, `${entries.join('\0')}\0`);
  return path;
}

const crop = (seed: number) => pseudoRandomBytes(112 * 112 * 3, seed);

function fromFloat16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

t.test('UINT8 NHWC models take the raw bytes; the canned SCRFD face decodes', async (t) => {
  const paths = pack({ detection: { faces: 3 } });
  const engine = await openRknnModels(options(paths), silentLogger);
  t.match(engine.info, {
    runtime: 'rknn',
    device: 'rknpu',
    providers: ['rknpu'],
    recognition: { width: 112, height: 112, dim: 512, batch: 1 },
    detection: { outputs: 9 },
    details: {
      sdkApiVersion: '2.3.0 (fake rknn api)',
      sdkDriverVersion: '0.9.8-fake',
      coreMask: 'auto',
      contexts: 1,
      detectionInput: { dims: [1, 640, 640, 3], type: 'UINT8', fmt: 'NHWC', feed: /raw RGB bytes/ },
      recognitionInput: { dims: [1, 112, 112, 3], type: 'UINT8', fmt: 'NHWC' },
    },
  });

  const outputs = await engine.detect({ data: pseudoRandomBytes(640 * 640 * 3, 1), width: 640, height: 640 });
  t.same(
    outputs.map((o) => o.dims),
    [
      [12800, 1],
      [3200, 1],
      [800, 1],
      [12800, 4],
      [3200, 4],
      [800, 4],
      [12800, 10],
      [3200, 10],
      [800, 10],
    ],
  );
  const faces = decodeScrfd(outputs, { inputWidth: 640, inputHeight: 640, scale: 1, imageWidth: 640, imageHeight: 640, minScore: 0.5, nmsIou: 0.4 });
  t.same(
    faces.map((f) => ({ score: f.score, box: f.box, landmarks: f.landmarks })),
    FAKE_SCRFD_FACES_640.map((f) => ({ score: f.score, box: [...f.box], landmarks: f.landmarks.map((p) => [...p]) })),
    'the faces documented in fake_rknnrt.c, the weaker duplicate removed by NMS',
  );

  const crops = [crop(1), crop(2), crop(3)];
  const packed = new Uint8Array(crops.length * crops[0].length);
  for (const [i, c] of crops.entries()) packed.set(c, i * c.length);
  const embeddings = await engine.embed(packed, 3);
  t.equal(embeddings.length, 3 * 512);
  for (const [i, c] of crops.entries()) t.same(embeddings.subarray(i * 512, (i + 1) * 512), fakeEmbedding(c, 512), `crop ${i}`);
  await engine.close();
});

t.test('FLOAT32 NCHW models take the normalised planes', async (t) => {
  const detection = writeFakeModel(fresh('det.rknn'), {
    mode: 'sum',
    inputs: [{ dims: [1, 3, 32, 32], type: 'FLOAT32', fmt: 'NCHW' }],
    outputs: [{ dims: [1, 7] }],
  });
  const recognition = writeFakeRecognitionModel(fresh('rec.rknn'), { inputType: 'FLOAT32', fmt: 'NCHW', dim: 128 });
  const engine = await openRknnModels(options({ detection, recognition }, { detSize: 32 }), silentLogger);
  t.match(engine.info.details, { detectionInput: { fmt: 'NCHW', feed: 'normalised float32 NCHW' } });

  const image = pseudoRandomBytes(32 * 32 * 3, 7);
  const [out] = await engine.detect({ data: image, width: 32, height: 32 });
  t.same(out.dims, [1, 7]);
  t.same(out.data, fakeFold(rgbToNchw(image, 1, 32, 32, 127.5, 128), 7), 'detection: (x - 127.5) / 128, NCHW');

  const c = crop(4);
  t.same(await engine.embed(c, 1), fakeFold(rgbToNchw(c, 1, 112, 112, 127.5, 127.5), 128), 'recognition: (x - 127.5) / 127.5, NCHW');
  await engine.close();
});

t.test('FLOAT32 NHWC, FLOAT16, UINT8 NCHW and INT8 inputs', async (t) => {
  const detection = writeFakeScrfdModel(fresh('det.rknn'));
  const c = crop(5);
  const cases: [string, Parameters<typeof writeFakeModel>[1]['inputs'][0], Float32Array][] = [
    ['FLOAT32 NHWC', { dims: [1, 112, 112, 3], type: 'FLOAT32', fmt: 'NHWC' }, fakeFold(rgbToNhwc(c, 127.5, 127.5), 64)],
    [
      'FLOAT16 NHWC',
      { dims: [1, 112, 112, 3], type: 'FLOAT16', fmt: 'NHWC' },
      fakeFold(
        Array.from(rgbToNhwc(c, 127.5, 127.5), (x) => fromFloat16(toFloat16(x))),
        64,
      ),
    ],
    ['UINT8 NCHW', { dims: [1, 3, 112, 112], type: 'UINT8', fmt: 'NCHW', mean: 127.5 }, fakeFold(Array.from(rgbToNchw(c, 1, 112, 112, 127.5, 1)), 64)],
    [
      'INT8 NHWC (quantised)',
      { dims: [1, 112, 112, 3], type: 'INT8', fmt: 'NHWC', qnt: 'AFFINE', zp: -128, scale: 0.007843, mean: 127.5 },
      fakeEmbedding(c, 64),
    ],
  ];
  for (const [name, input, expected] of cases) {
    const recognition = writeFakeModel(fresh('rec.rknn'), { mode: 'embed', inputs: [input], outputs: [{ dims: [1, 64] }] });
    const engine = await openRknnModels(options({ detection, recognition }), silentLogger);
    t.same(await engine.embed(c, 1), expected, name);
    await engine.close();
  }
});

t.test('float16 conversion rounds to nearest even', async (t) => {
  t.equal(toFloat16(1), 0x3c00);
  t.equal(toFloat16(-2), 0xc000);
  t.equal(toFloat16(0.1), 0x2e66);
  t.equal(toFloat16(1 + 2 ** -11), 0x3c00, 'a tie rounds to even');
  t.equal(toFloat16(1 + 3 * 2 ** -11), 0x3c02);
  t.equal(toFloat16(2 ** -20), 0x0010, 'subnormal');
  t.equal(toFloat16(1e6), 0x7c00, 'overflow is infinity');
});

t.test('a fixed recognition batch is filled and padded per run', async (t) => {
  const paths = pack({ recognition: { batch: 4, dim: 32 } });
  const engine = await openRknnModels(options(paths), silentLogger);
  t.same(engine.info.recognition, { width: 112, height: 112, dim: 32, batch: 4 });
  const crops = [1, 2, 3].map(crop);
  const packed = new Uint8Array(3 * crops[0].length);
  for (const [i, c] of crops.entries()) packed.set(c, i * c.length);
  const out = await engine.embed(packed, 3);
  t.equal(out.length, 3 * 32);
  for (const [i, c] of crops.entries()) t.same(out.subarray(i * 32, (i + 1) * 32), fakeEmbedding(c, 32), `crop ${i}`);
  await engine.close();
});

t.test('a recognizer with two outputs: the one declaring one vector per image is the embedding', async (t) => {
  // The fake writes the embedding to its last output; a [B, 1] norm output sits before it.
  const paths = pack({ recognition: { dim: 64, leadingOutputs: [{ dims: [1, 1], type: 'FLOAT32', name: 'norm' }] } });
  const engine = await openRknnModels(options(paths), silentLogger);
  t.equal(engine.info.recognition.dim, 64);
  const c = crop(7);
  t.same(await engine.embed(c, 1), fakeEmbedding(c, 64), 'the embedding, not the decoy');
  await engine.close();

  const twin = pack({ recognition: { dim: 64, leadingOutputs: [{ dims: [1, 64], type: 'FLOAT32', name: 'raw' }] } });
  const ambiguous = await failureOf(() => openRknnModels(options(twin), silentLogger));
  t.match(ambiguous, { code: 'MODEL_LOAD_FAILED', message: /2 outputs that could be the embedding: .*"raw" \[1, 64\], "683" \[1, 64\]/ });
});

t.test('rknn_target is checked against the board', async (t) => {
  const paths = pack();
  const rock5b = compatible('radxa,rock-5b', 'rockchip,rk3588');
  const err = await failureOf(() => openRknnModels(options(paths, { target: 'rk3568', compatiblePath: rock5b }), silentLogger));
  t.ok(err instanceof LumenError);
  t.equal(err.code, 'RKNN_TARGET_MISMATCH');
  t.match(err.message, /rknn_target is rk3568 but this board is rk3588/);
  t.match(err.message, rock5b);

  const ok = await openRknnModels(options(paths, { target: 'rk3588', compatiblePath: compatible('xunlong,orangepi-5', 'rockchip,rk3588s') }), silentLogger);
  t.equal(ok.info.details.soc, 'rk3588s');
  await ok.close();
  const same = await openRknnModels(options(paths, { target: 'rk3566', compatiblePath: compatible('rockchip,rk3568-evb1', 'rockchip,rk3568') }), silentLogger);
  t.equal(same.info.details.target, 'rk3566', 'rk3566 models run on rk3568');
  await same.close();
  const noFile = await openRknnModels(options(paths, { target: 'rk3588' }), silentLogger);
  t.equal(noFile.info.details.soc, null, 'without the file, nothing to check');
  await noFile.close();
});

t.test('core masks: skipped on RK356x, set on every context of RK3588', async (t) => {
  const trace = fresh('trace');
  // soc=rk3568 makes the fake refuse masks, as RK356x does.
  const rk356x = pack({ detection: { extra: { soc: 'rk3568', trace } }, recognition: { extra: { soc: 'rk3568', trace } } });
  const { log, lines: logged } = captureLogger();
  const skipped = await openRknnModels(options(rk356x, { coreMask: 3, contexts: 2, compatiblePath: compatible('rockchip,rk3568') }), log);
  t.equal(skipped.info.details.coreMask, 'auto');
  t.ok(
    logged.some((e) => /rknn_core_mask ignored/.test(e.msg ?? '')),
    'logged',
  );
  await skipped.close();
  t.notOk(readFakeTrace(trace).some((c) => c.fn === 'rknn_set_core_mask'));

  const byTarget = await openRknnModels(options(rk356x, { coreMask: 3, target: 'rk3566' }), silentLogger);
  t.equal(byTarget.info.details.coreMask, 'auto', 'no board file: rknn_target decides');
  await byTarget.close();

  const trace3588 = fresh('trace');
  const rk3588 = pack({ detection: { extra: { trace: trace3588 } }, recognition: { extra: { trace: trace3588 } } });
  const masked = await openRknnModels(options(rk3588, { coreMask: 7, contexts: 2, compatiblePath: compatible('rockchip,rk3588') }), silentLogger);
  t.equal(masked.info.details.coreMask, 7);
  await masked.close();
  const masks = readFakeTrace(trace3588).filter((c) => c.fn === 'rknn_set_core_mask');
  t.equal(masks.length, 4, 'two models x two contexts');
  t.ok(masks.every((c) => /mask=7 rc=0/.test(c.line)));
});

t.test('contexts run crops concurrently; perf debug logs NPU time per run', async (t) => {
  const trace = fresh('trace');
  const paths = pack({
    detection: { extra: { perfUs: 777 } },
    recognition: { dim: 128, extra: { delayMs: 20, perfUs: 555, trace } },
  });
  const { log, lines: logged } = captureLogger();
  const engine = await openRknnModels(options(paths, { contexts: 3, perfDebug: true, deviceId: '0123456789' }), log);
  t.equal(engine.info.details.contexts, 3);
  t.equal(engine.info.details.perfDebug, true);
  const crops = Array.from({ length: 6 }, (_, i) => crop(10 + i));
  const results = await Promise.all(crops.map((c) => engine.embed(c, 1)));
  for (const [i, r] of results.entries()) t.same(r, fakeEmbedding(crops[i], 128));
  await engine.detect({ data: new Uint8Array(640 * 640 * 3), width: 640, height: 640 });
  await engine.close();

  const perf = logged.filter((e) => e.msg === 'rknn run');
  t.ok(
    perf.some((e) => e.obj.model === 'detection' && e.obj.npuTimeUs === 777),
    'detection NPU time',
  );
  t.equal(perf.filter((e) => e.obj.model === 'recognition' && e.obj.npuTimeUs === 555).length, 7, 'warm-up + 6 crops');
  t.ok(
    logged.some((e) => e.obj.deviceId === '0123456789' && /ignored on the board/.test(e.msg ?? '')),
    'rknn_device_id is logged as ignored',
  );
  const parallel = Math.max(...readFakeTrace(trace).map((c) => Number(/parallel=(\d+)/.exec(c.line)?.[1] ?? 0)));
  t.equal(parallel, 3, 'three recognition runs at once');

  const { log: quiet, lines: quietLines } = captureLogger();
  const plain = await openRknnModels(options(paths), quiet);
  await plain.embed(crop(1), 1);
  await plain.close();
  t.notOk(
    quietLines.some((e) => e.msg === 'rknn run'),
    'no perf lines without rknn_perf_debug',
  );
});

t.test('sizes are checked at load', async (t) => {
  const paths = pack();
  const det = await failureOf(() => openRknnModels(options(paths, { detSize: 320 }), silentLogger));
  t.match(det, { code: 'MODEL_LOAD_FAILED', message: /takes 640x640 but the detection size is 320/ });

  const same = await openRknnModels(options(paths, { recInputSize: { height: 112, width: 112 } }), silentLogger);
  await same.close();
  const other = await failureOf(() => openRknnModels(options(paths, { recInputSize: { height: 128 } }), silentLogger));
  t.match(other, { code: 'MODEL_LOAD_FAILED', message: /ask for 112x128 but the recognition model takes 112x112/ });

  const nc1hwc2 = writeFakeModel(fresh('rec.rknn'), {
    mode: 'embed',
    inputs: [{ dims: [1, 112, 112, 3], type: 'UINT8', fmt: 'NC1HWC2' }],
    outputs: [{ dims: [1, 8] }],
  } satisfies FakeModelSpec);
  const layout = await failureOf(() => openRknnModels(options({ detection: paths.detection, recognition: nc1hwc2 }), silentLogger));
  t.match(layout.message, /expected format NHWC or NCHW/);
});

t.test('errors: missing library, failed loads clean up, failed runs', async (t) => {
  const paths = pack();
  const missing = join(dir, 'nowhere', 'librknnrt.so');
  const lib = await failureOf(() => openRknnModels(options(paths, { libraryPath: missing }), silentLogger));
  t.match(lib, { code: 'MODEL_LOAD_FAILED' });
  t.match(lib.message, missing);

  const trace = fresh('trace');
  const broken = pack({ detection: { extra: { trace } }, recognition: { extra: { fail: ['rknn_init:-6'] } } });
  const init = await failureOf(() => openRknnModels(options(broken, { contexts: 2 }), silentLogger));
  t.match(init.message, /recognition model .*rknn_init failed: RKNN_ERR_MODEL_INVALID \(-6\)/);
  t.equal(readFakeTrace(trace).filter((c) => c.fn === 'rknn_destroy' && c.rc === 0).length, 2, 'the detection contexts were destroyed');

  // Call 1 is the warm-up, call 2 the first request.
  const failing = pack({ recognition: { extra: { fail: ['rknn_run:-7:2'] } } });
  const engine = await openRknnModels(options(failing), silentLogger);
  const err = await failureOf(() => engine.embed(crop(1), 1));
  t.ok(err instanceof LumenError);
  t.match(err, { status: 500, code: 'RKNN_RUN_FAILED', message: /recognition run failed: rknn_run returned RKNN_ERR_CTX_INVALID \(-7\)/ });
  t.match(err.cause, { function: 'rknn_run', code: -7, codeName: 'RKNN_ERR_CTX_INVALID' });
  t.same(await engine.embed(crop(1), 1), fakeEmbedding(crop(1)), 'the next request works');
  await engine.close();
});
