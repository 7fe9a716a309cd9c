import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { imagePart, multipart, testApp } from '../../../helpers/app.js';
import { buildFakeRknn, writeFakeRknnPack } from '../../../fake-rknn/build.js';

/**
 * A fake .rknn pair in immich's RKNN layout ({pack}/{role}/rknpu/{soc}/model.rknn), converted as
 * immich converts (float NCHW input, no mean/std baked in), served through the real addon and the
 * fake librknnrt.so: the same answers as the same files in the lumen layout.
 */

const library = buildFakeRknn();

function packs(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-rknn-immich-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lumen = writeFakeRknnPack(join(dir, 'lumen'), {
    model: 'fake',
    precision: 'fp16',
    detection: { faces: 3, inputType: 'FLOAT32', fmt: 'NCHW' },
    recognition: { inputType: 'FLOAT32', fmt: 'NCHW' },
  });
  for (const role of ['detection', 'recognition'] as const) {
    const folder = join(dir, 'immich', 'buffalo_fake', role, 'rknpu', 'rk3588');
    mkdirSync(folder, { recursive: true });
    symlinkSync(lumen[role], join(folder, 'model.rknn'));
  }
  return { lumenDir: join(dir, 'lumen'), immichDir: join(dir, 'immich') };
}

const photo = () =>
  sharp({ create: { width: 640, height: 640, channels: 3, background: { r: 90, g: 120, b: 150 } } })
    .composite([{ input: Buffer.from('<svg width="640" height="640"><circle cx="320" cy="320" r="128" fill="#e0b090"/></svg>') }])
    .png()
    .toBuffer();

const rknn = { LUMEN_FACE_RUNTIME: 'rknn', LUMEN_FACE_RKNN_LIBRARY: library, LUMEN_FACE_PRECISION: 'fp16' };

t.test('immich RKNN layout: the SoC folder from rknn_target, same faces as the lumen layout', async (t) => {
  const { lumenDir, immichDir } = packs(t);
  const body = await multipart([imagePart(await photo(), 'a.png', 'image/png')]);

  const lumen = await testApp(t, { env: { ...rknn, LUMEN_FACE_LOCAL_DIR: lumenDir, LUMEN_FACE_MODEL_NAME: 'fake' } });
  await lumen.faceBackend.loaded;
  const expected = (await lumen.inject({ method: 'POST', url: '/v1/faces', ...body })).json();
  t.equal(expected.faces.length, 3);

  const immich = await testApp(t, {
    env: { ...rknn, LUMEN_FACE_LOCAL_DIR: immichDir, LUMEN_FACE_MODEL_NAME: 'buffalo_fake', LUMEN_FACE_EXTRA: JSON.stringify({ rknn_target: 'rk3588' }) },
  });
  await immich.faceBackend.loaded;
  const answer = (await immich.inject({ method: 'POST', url: '/v1/faces', ...body })).json();
  t.same(answer.faces, expected.faces, 'identical faces and embeddings');
  const info = (await immich.inject('/v1/info')).json();
  t.equal(info.pack.layout, 'immich');
  t.equal(info.files.detection.path, join(immichDir, 'buffalo_fake', 'detection', 'rknpu', 'rk3588', 'model.rknn'));
  t.equal(info.files.recognition.path, join(immichDir, 'buffalo_fake', 'recognition', 'rknpu', 'rk3588', 'model.rknn'));
  t.match(info.engine.detectionInput, { type: 'FLOAT32', fmt: 'NCHW', feed: 'normalised float32 NCHW' });
});

t.test('a SoC with no conversion is a start-up error listing the SoC folders that exist', async (t) => {
  const { immichDir } = packs(t);
  const app = await testApp(t, {
    env: { ...rknn, LUMEN_FACE_LOCAL_DIR: immichDir, LUMEN_FACE_MODEL_NAME: 'buffalo_fake', LUMEN_FACE_EXTRA: JSON.stringify({ rknn_target: 'rk3576' }) },
  });
  const err = await app.faceBackend.loaded.then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err, { code: 'MODEL_NOT_FOUND' });
  t.match(err?.message, /detection\/rknpu\/rk3576\/model\.rknn of immich pack buffalo_fake not found/);
  t.match(err?.message, /no RKNN conversion for rk3576: the SoC folders found are rk3588; immich's repositories convert for rk3566, rk3568, rk3576, rk3588/);

  const unknown = await testApp(t, {
    env: { ...rknn, LUMEN_FACE_LOCAL_DIR: immichDir, LUMEN_FACE_MODEL_NAME: 'buffalo_fake', LUMEN_FACE_EXTRA: JSON.stringify({ rknn_target: 'rk3399' }) },
  });
  const err2 = await unknown.faceBackend.loaded.then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err2?.message, /immich publishes RKNN conversions for rk3566, rk3568, rk3576, rk3588, not for rknn_target "rk3399"/);
});
