import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { backendFor, cosine, FACES_DIR, mapLimit, REPO_ROOT } from '../helpers/fixtures.js';

/**
 * The service's /v1/faces answers against the straightforward reference pipeline (test/helpers/
 * reference-pipeline.ts: one full decode, a 640 square letterbox resized from it, every crop warped
 * from the full-resolution pixels), whose answers for every shared photo are in the fixture, written
 * by fixtures/write-reference-answers.ts with the scrfd_2.5g_mbf fp32 pack.
 */

interface Answer {
  image: { width: number; height: number };
  faces: { box: number[]; score: number; landmarks: number[][]; quality: Record<string, number | null>; embedding: string }[];
}

const reference = JSON.parse(readFileSync(join(REPO_ROOT, 'test/accuracy/fixtures/reference-answers.json'), 'utf8')) as Record<string, Answer>;
const decode = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};

/** Sharpness is computed in JavaScript by the service and in libvips by the reference: within 1% plus 0.5 (docs/performance.md). */
const SHARPNESS_TOLERANCE = { relative: 0.01, absolute: 0.5 };

t.test('every shared photo: the same faces, boxes within 1 px or 1% of the face, embeddings at cosine 0.999 or more, quality within tolerance', async (t) => {
  const backend = await backendFor('scrfd_2.5g_mbf', 'fp32');
  t.teardown(() => backend.close());
  const names = Object.keys(reference);
  t.ok(names.length >= 100, `${names.length} photos in the fixture`);
  const now = await mapLimit(names, 4, (name) => backend.faces(readFileSync(join(FACES_DIR, name))));
  let faces = 0;
  let worstCos = 1;
  let worstBox = 0;
  let worstSharpness = 0;
  const problems: string[] = [];
  for (const [i, name] of names.entries()) {
    const want = reference[name];
    const got = now[i];
    if (got.image.width !== want.image.width || got.image.height !== want.image.height) problems.push(`${name}: image size`);
    if (got.faces.length !== want.faces.length) {
      problems.push(`${name}: ${got.faces.length} faces, the reference ${want.faces.length}`);
      continue;
    }
    got.faces.forEach((f, k) => {
      const o = want.faces[k];
      faces++;
      const side = Math.min(o.box[2] - o.box[0], o.box[3] - o.box[1]);
      const allowed = Math.max(1, 0.01 * side);
      const moved = Math.max(...f.box.map((v, j) => Math.abs(v - o.box[j])));
      const cos = cosine(f.embedding, decode(o.embedding));
      worstBox = Math.max(worstBox, moved / allowed);
      worstCos = Math.min(worstCos, cos);
      if (moved > allowed) problems.push(`${name} face ${k}: box moved ${moved.toFixed(3)} px (allowed ${allowed.toFixed(2)})`);
      if (!(cos >= 0.999)) problems.push(`${name} face ${k}: cosine ${cos}`);
      const sharpness = o.quality.sharpness ?? 0;
      const off = Math.abs(f.quality.sharpness - sharpness);
      worstSharpness = Math.max(worstSharpness, off / (SHARPNESS_TOLERANCE.relative * sharpness + SHARPNESS_TOLERANCE.absolute));
      if (off > SHARPNESS_TOLERANCE.relative * sharpness + SHARPNESS_TOLERANCE.absolute) {
        problems.push(`${name} face ${k}: sharpness ${f.quality.sharpness} against ${sharpness}`);
      }
    });
  }
  t.same(
    problems,
    [],
    `${faces} faces; worst cosine ${worstCos.toFixed(5)}, worst box shift ${worstBox.toFixed(2)} of allowed, worst sharpness ${worstSharpness.toFixed(2)} of allowed`,
  );
  t.ok(faces >= 140, `${faces} faces compared`);
});
