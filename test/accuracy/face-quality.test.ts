/**
 * Face quality on the shared photos, through the real detector: the pose and
 * sharpness estimates move the right way and in the right order.
 *
 * Every variant of a photo (mirrored, rotated, blurred, scaled) is made from the EXIF-upright pixels
 * and encoded losslessly (PNG), and the reference goes through the same path, so only the change under
 * test differs.
 */
import sharp, { type Sharp } from 'sharp';
import t from 'tap';
import type { FaceBackend } from '../../src/index.js';
import { backendFor, iou, readFace, TEST_ENGINE } from '../helpers/fixtures.js';

/** Frontal portraits: the subject faces the camera (checked by eye). */
const FRONTAL = ['identities/deepface_person_img34/02.jpg', 'identities/Jennifer_Capriati/03.jpg', 'identities/deepface_person_img29/04.jpg'];
/** Faces turned clearly to one side (checked by eye): the side the nose points to in the image. */
const TURNED = [
  { path: 'identities/InspireFace_RD/03.jpg', towards: 'right' },
  { path: 'identities/Hugo_Chavez/02.jpg', towards: 'right' },
  { path: 'identities/InspireFace_ZY/01.png', towards: 'left' },
] as const;

const backend: FaceBackend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());

const upright = (path: string): Sharp => sharp(readFace(path)).rotate();
const png = (image: Sharp) => image.png().toBuffer();

async function largestQuality(bytes: Buffer) {
  const { faces } = await backend.detect(bytes, { max_faces: 1 });
  if (faces.length === 0) throw new Error('no face found');
  return faces[0].quality;
}

t.test('a frontal face has |yaw| below 15 degrees', async (t) => {
  for (const path of FRONTAL) {
    const q = await largestQuality(readFace(path));
    t.ok(Math.abs(q.yaw as number) < 15, `${path}: yaw ${q.yaw}`);
    t.ok(Math.abs(q.roll as number) < 5, `${path}: roll ${q.roll}`);
  }
});

t.test('a face turned to one side has the sign of its side, and the mirrored photo the opposite sign', async (t) => {
  for (const { path, towards } of TURNED) {
    const q = await largestQuality(await png(upright(path)));
    const mirrored = await largestQuality(await png(upright(path).flop()));
    const sign = towards === 'right' ? 1 : -1;
    t.ok(sign * (q.yaw as number) > 20, `${path}: yaw ${q.yaw}, turned towards the image's ${towards}`);
    t.ok(sign * (mirrored.yaw as number) < -20, `${path} mirrored: yaw ${mirrored.yaw}`);
    t.ok(Math.abs((q.yaw as number) + (mirrored.yaw as number)) < 8, `${path}: |yaw| about equal when mirrored (${q.yaw}, ${mirrored.yaw})`);
  }
});

t.test('every face of a group photo flips the sign of its yaw when the photo is mirrored', async (t) => {
  const path = 'groups/t1.jpg';
  const { width } = await upright(path).metadata();
  const original = (await backend.detect(await png(upright(path)))).faces;
  const mirrored = (await backend.detect(await png(upright(path).flop()))).faces;
  t.equal(mirrored.length, original.length, 'the same faces');
  for (const face of original) {
    if (Math.abs(face.quality.yaw as number) < 5) continue; // too close to frontal for the sign to mean anything
    const [x1, y1, x2, y2] = face.box;
    const mirroredBox: [number, number, number, number] = [width - x2, y1, width - x1, y2];
    const twin = mirrored.find((m) => iou(m.box, mirroredBox) > 0.7);
    if (!t.ok(twin, `face at ${face.box.map(Math.round).join(',')} found in the mirror`) || !twin) continue;
    t.ok(Math.sign(twin.quality.yaw as number) === -Math.sign(face.quality.yaw as number), `yaw ${face.quality.yaw} mirrored is ${twin.quality.yaw}`);
  }
});

t.test('a photo rotated by 30 degrees in-plane has roll 30 +- 5', async (t) => {
  for (const path of ['identities/Jennifer_Capriati/03.jpg', 'identities/Angelina_Jolie/02.jpg']) {
    for (const angle of [30, -30]) {
      // sharp rotates clockwise for positive angles, which is positive roll.
      const q = await largestQuality(await png(upright(path).rotate(angle, { background: '#000' })));
      t.ok(Math.abs((q.roll as number) - angle) <= 5, `${path} rotated ${angle}: roll ${q.roll}`);
    }
  }
});

t.test('blurring a face lowers its sharpness monotonically', async (t) => {
  for (const path of ['identities/deepface_person_img34/02.jpg', 'identities/Jennifer_Capriati/03.jpg', 'identities/InspireFace_RD/03.jpg']) {
    const reference = await largestQuality(await png(upright(path)));
    // Blur radii in pixels of the 112-pixel template the face is measured at, so every face is blurred alike.
    const templatePixel = Math.max(1, reference.size / 112);
    const sharpness = [reference.sharpness];
    for (const sigma of [1, 1.5, 2, 3]) sharpness.push((await largestQuality(await png(upright(path).blur(sigma * templatePixel)))).sharpness);
    for (let i = 1; i < sharpness.length; i++) {
      t.ok(sharpness[i] < sharpness[i - 1], `${path}: sharpness ${sharpness.join(' > ')}`);
    }
    t.ok(sharpness[sharpness.length - 1] < sharpness[0] / 10, `${path}: a strong blur divides sharpness by more than 10`);
  }
});

/**
 * The crop is resampled differently at each scale (a decode at another size, a warp that shrinks by
 * another factor), so sharpness moves a little; on the raw box crop it would scale with the face's area.
 */
t.test('sharpness is measured at the template scale: the same face shrunk keeps it within 30% while it stays above 150 px', async (t) => {
  const path = 'identities/deepface_person_img34/02.jpg';
  const { width } = await upright(path).metadata();
  const full = await largestQuality(await png(upright(path)));
  t.ok(full.size > 300, `face of ${full.size} px`);
  for (const scale of [0.75, 0.5]) {
    const q = await largestQuality(await png(upright(path).resize(Math.round(width * scale))));
    t.ok(q.size > 150, `scaled ${scale}: face of ${q.size} px`);
    t.ok(Math.abs(q.sharpness / full.sharpness - 1) < 0.3, `scaled ${scale}: sharpness ${q.sharpness} against ${full.sharpness}`);
  }
});

t.test('detect and faces give every face the same quality', async (t) => {
  const bytes = readFace('groups/t1.jpg');
  const detected = (await backend.detect(bytes)).faces;
  const embedded = (await backend.faces(bytes)).faces;
  t.equal(embedded.length, detected.length);
  t.same(
    embedded.map((f) => f.quality),
    detected.map((f) => f.quality),
  );
  for (const f of detected) {
    t.ok(f.quality.size > 0 && f.quality.size === Math.round(Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1]) * 100) / 100, `size ${f.quality.size}`);
    t.ok(f.quality.sharpness > 0, `sharpness ${f.quality.sharpness}`);
  }
});

t.test('max_yaw and min_sharpness drop exactly the faces outside them; max_faces then keeps the largest', async (t) => {
  for (const path of ['groups/t1.jpg', 'groups/selfie_many_people.jpg']) {
    const bytes = readFace(path);
    const all = (await backend.detect(bytes)).faces;
    const yaws = all.map((f) => Math.abs(f.quality.yaw as number)).sort((a, b) => a - b);
    const maxYaw = (yaws[Math.floor(yaws.length / 2)] + yaws[Math.floor(yaws.length / 2) - 1]) / 2;
    const sharpnesses = all.map((f) => f.quality.sharpness).sort((a, b) => a - b);
    const minSharpness = (sharpnesses[1] + sharpnesses[2]) / 2;

    const posed = all.filter((f) => Math.abs(f.quality.yaw as number) <= maxYaw);
    t.ok(posed.length > 0 && posed.length < all.length, `${path}: max_yaw=${maxYaw} keeps some faces`);
    t.same((await backend.detect(bytes, { max_yaw: maxYaw })).faces, posed, `${path}: detect max_yaw`);
    t.same(
      (await backend.faces(bytes, { max_yaw: maxYaw })).faces.map((f) => f.box),
      posed.map((f) => f.box),
      `${path}: faces max_yaw`,
    );

    const sharp = all.filter((f) => f.quality.sharpness >= minSharpness);
    t.equal(sharp.length, all.length - 2, `${path}: min_sharpness=${minSharpness} drops the two blurriest`);
    t.same((await backend.detect(bytes, { min_sharpness: minSharpness })).faces, sharp, `${path}: detect min_sharpness`);
    const embedded = (await backend.faces(bytes, { min_sharpness: minSharpness })).faces;
    t.same(
      embedded.map((f) => f.box),
      sharp.map((f) => f.box),
      `${path}: faces min_sharpness`,
    );
    t.ok(
      embedded.every((f) => f.embedding.length === 128),
      'every kept face is embedded',
    );

    const both = all.filter((f) => Math.abs(f.quality.yaw as number) <= maxYaw && f.quality.sharpness >= minSharpness);
    const one = await backend.faces(bytes, { max_yaw: maxYaw, min_sharpness: minSharpness, max_faces: 1 });
    t.same(
      one.faces.map((f) => f.box),
      both.slice(0, 1).map((f) => f.box),
      `${path}: max_faces=1 keeps the largest face that passes`,
    );
  }
});

t.test('the knobs are validated', async (t) => {
  const bytes = readFace(FRONTAL[0]);
  await t.rejects(backend.detect(bytes, { max_yaw: 91 }), { code: 'INVALID_OPTION', message: /max_yaw/ });
  await t.rejects(backend.detect(bytes, { max_yaw: -1 }), { code: 'INVALID_OPTION', message: /max_yaw/ });
  await t.rejects(backend.faces(bytes, { min_sharpness: -5 }), { code: 'INVALID_OPTION', message: /min_sharpness/ });
});
