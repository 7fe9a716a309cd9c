import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { SourceImage } from '../../src/image/source.js';
import { alignedCrop, squareCrop } from '../../src/pipeline/crops.js';
import { l2Normalise } from '../../src/pipeline/recognizer.js';
import type { Landmarks } from '../../src/types.js';
import { imagePart, multipart, testApp } from '../helpers/app.js';
import { cosine } from '../helpers/fixtures.js';
import { buildFakeRknn, FAKE_SCRFD_FACES_640, fakeEmbedding, writeFakeRknnPack, type FakePackOptions } from '../fake-rknn/build.js';

/** The whole service over HTTP with LUMEN_FACE_RUNTIME=rknn, through the real addon and the strict fake librknnrt.so. */

const library = buildFakeRknn();

function rknnEnv(t: { teardown(fn: () => void): void }, pack: FakePackOptions = {}, extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-rknn-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFakeRknnPack(dir, { model: 'fake', precision: 'fp16', ...pack });
  return {
    LUMEN_FACE_RUNTIME: 'rknn',
    LUMEN_FACE_LOCAL_DIR: dir,
    LUMEN_FACE_MODEL_NAME: 'fake',
    LUMEN_FACE_PRECISION: 'fp16',
    LUMEN_FACE_RKNN_LIBRARY: library,
    LUMEN_FACE_EXTRA: JSON.stringify({ rknn_contexts: 3 }),
    ...extra,
  };
}

const gray = (size: number) =>
  sharp({ create: { width: size, height: size, channels: 3, background: { r: 90, g: 120, b: 150 } } })
    .composite([
      { input: Buffer.from(`<svg width="${size}" height="${size}"><circle cx="${size / 2}" cy="${size / 2}" r="${size / 5}" fill="#e0b090"/></svg>`) },
    ])
    .png()
    .toBuffer();

t.test('detect, faces and embed end to end through the addon', async (t) => {
  const app = await testApp(t, { env: rknnEnv(t, { detection: { faces: 3 } }) });
  await app.faceBackend.loaded;

  const info = (await app.inject('/v1/info')).json();
  t.equal(info.runtime, 'rknn');
  t.equal(info.device, 'rknpu');
  t.same(info.providers, ['rknpu']);
  t.same(info.model, { name: 'fake', runtime: 'rknn', precision: 'fp16', dim: 512 });
  t.equal(info.files.detection.path.endsWith('fake/rknn/fp16/detection.rknn'), true);
  t.equal(info.engine.contexts, 3);
  t.equal(info.engine.coreMask, 'auto');
  t.type(info.engine.sdkApiVersion, 'string');
  t.type(info.engine.sdkDriverVersion, 'string');

  const photo = await gray(640);
  const detected = (await app.inject({ method: 'POST', url: '/v1/detect', ...(await multipart([imagePart(photo, 'a.png', 'image/png')])) })).json();
  t.same(detected.image, { width: 640, height: 640 });
  t.same(
    detected.faces.map(({ quality: _, ...f }: { quality: unknown }) => f),
    [FAKE_SCRFD_FACES_640[0], FAKE_SCRFD_FACES_640[1], FAKE_SCRFD_FACES_640[2]].map((f) => ({ box: f.box, score: f.score, landmarks: f.landmarks })),
    'the canned faces, decoded exactly, largest first; the NMS duplicate is gone',
  );
  t.ok(
    detected.faces.every((f: { quality: { sharpness: number; size: number } }) => f.quality.sharpness >= 0 && f.quality.size > 0),
    'each with its quality',
  );

  const doubled = await gray(1280);
  const scaled = (await app.inject({ method: 'POST', url: '/v1/detect?max_faces=1', ...(await multipart([imagePart(doubled, 'b.png', 'image/png')])) })).json();
  t.same(
    scaled.faces[0].box,
    FAKE_SCRFD_FACES_640[0].box.map((v) => v * 2),
    'letterbox scale undone',
  );

  const image = await (await SourceImage.open(photo, { maxPixels: 1e8 })).decode();
  const faces = (await app.inject({ method: 'POST', url: '/v1/faces', ...(await multipart([imagePart(photo, 'a.png', 'image/png')])) })).json();
  t.equal(faces.faces.length, 3);
  for (const [i, face] of faces.faces.entries()) {
    t.equal(face.embedding.length, 512);
    const crop = await alignedCrop(image, FAKE_SCRFD_FACES_640[i].landmarks as unknown as Landmarks, { width: 112, height: 112 });
    const expected = l2Normalise(fakeEmbedding(crop, 512));
    t.ok(cosine(face.embedding, expected) > 0.999999, `face ${i}: the NPU saw exactly the aligned crop bytes`);
  }

  const box = [100, 100, 300, 260];
  const plain = (
    await app.inject({
      method: 'POST',
      url: '/v1/embed?align=false',
      ...(await multipart([imagePart(photo, 'a.png', 'image/png'), { name: 'boxes', value: JSON.stringify([box]) }])),
    })
  ).json();
  const square = await squareCrop(image, box as [number, number, number, number], { width: 112, height: 112 });
  t.same(plain.faces[0].embedding.map(Math.fround), Array.from(l2Normalise(fakeEmbedding(square, 512))), 'a plain crop: exact float32 values');
});

t.test('concurrent requests over several contexts', async (t) => {
  const app = await testApp(t, { env: rknnEnv(t, { detection: { faces: 2, extra: { delayMs: 20 } }, recognition: { extra: { delayMs: 10 } } }) });
  await app.faceBackend.loaded;
  const body = await multipart([imagePart(await gray(640), 'a.png', 'image/png')]);
  const responses = await Promise.all(Array.from({ length: 12 }, () => app.inject({ method: 'POST', url: '/v1/faces', ...body })));
  const first = responses[0].json();
  t.equal(first.faces.length, 2);
  for (const res of responses) {
    t.equal(res.statusCode, 200);
    t.same(res.json(), first, 'every concurrent answer is identical');
  }
});

t.test('a failing NPU run is a 500 naming the call, and the next request succeeds', async (t) => {
  // Run #1 of each model is the start-up warm-up, so :2 fails the first request.
  const app = await testApp(t, { env: rknnEnv(t, { detection: { extra: { fail: ['rknn_run:-7:2'] } } }) });
  await app.faceBackend.loaded;
  const body = await multipart([imagePart(await gray(640), 'a.png', 'image/png')]);
  const failed = await app.inject({ method: 'POST', url: '/v1/detect', ...body });
  t.equal(failed.statusCode, 500);
  t.equal(failed.json().code, 'RKNN_RUN_FAILED');
  t.match(failed.json().message, /rknn_run.*RKNN_ERR_CTX_INVALID.*-7/);
  const ok = await app.inject({ method: 'POST', url: '/v1/detect', ...body });
  t.equal(ok.statusCode, 200);
  t.equal(ok.json().faces.length, 1);
});

t.test('start-up failures leave /readyz failed with a clear message', async (t) => {
  const missingLib = await testApp(t, { env: rknnEnv(t, {}, { LUMEN_FACE_RKNN_LIBRARY: '/nonexistent/librknnrt.so' }) });
  await missingLib.faceBackend.loaded.catch(() => undefined);
  const ready = await missingLib.inject('/readyz');
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().status, 'failed');
  t.match(ready.json().message, /\/nonexistent\/librknnrt\.so/);
  const refused = await missingLib.inject({ method: 'POST', url: '/v1/detect', ...(await multipart([imagePart(await gray(64), 'a.png', 'image/png')])) });
  t.equal(refused.statusCode, 503);
  t.equal(refused.json().code, 'NOT_READY');

  const noPack = await testApp(t, { env: { ...rknnEnv(t), LUMEN_FACE_MODEL_NAME: 'absent', LUMEN_FACE_OFFLINE: '1' } });
  await noPack.faceBackend.loaded.catch(() => undefined);
  const message = (await noPack.inject('/readyz')).json().message;
  t.match(message, /detection\.rknn/);
  t.match(message, /absent\/rknn\/fp16\/detection\.rknn/);

  const wrongSize = await testApp(t, { env: rknnEnv(t, {}, { LUMEN_FACE_DET_SIZE: '320' }) });
  await wrongSize.faceBackend.loaded.catch(() => undefined);
  t.match((await wrongSize.inject('/readyz')).json().message, /640/);
});
