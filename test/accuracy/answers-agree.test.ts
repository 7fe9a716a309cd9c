import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { backendFor, cosine, FACES_DIR, mapLimit, REPO_ROOT } from '../helpers/fixtures.js';

/**
 * The one-decode pipeline on photo workers gives the answers the earlier pipeline gave (commit
 * c4e7a2d, which decoded the photo again for the letterbox and for each crop level). The fixture
 * holds that commit's /v1/faces answers for every shared photo, written by its createBackend().faces
 * with the scrfd_2.5g_mbf fp32 pack; embeddings are base64 float32.
 */

interface Answer {
  image: { width: number; height: number };
  faces: {
    box: number[];
    score: number;
    landmarks: number[][];
    quality: Record<string, number | null>;
    embedding: string;
  }[];
}

const before = JSON.parse(readFileSync(join(REPO_ROOT, 'test/accuracy/fixtures/answers-c4e7a2d.json'), 'utf8')) as Record<string, Answer>;
const decode = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};

t.test('every shared photo: the same faces, boxes within 0.5 px, embeddings at cosine 0.9999 or more, the same quality', async (t) => {
  const backend = await backendFor('scrfd_2.5g_mbf', 'fp32');
  t.teardown(() => backend.close());
  const names = Object.keys(before);
  t.ok(names.length >= 100, `${names.length} photos in the fixture`);
  const now = await mapLimit(names, 4, (name) => backend.faces(readFileSync(join(FACES_DIR, name))));
  let faces = 0;
  let worstCos = 1;
  let worstBox = 0;
  const problems: string[] = [];
  names.forEach((name, i) => {
    const old = before[name];
    const got = now[i];
    if (got.image.width !== old.image.width || got.image.height !== old.image.height) problems.push(`${name}: image size`);
    if (got.faces.length !== old.faces.length) {
      problems.push(`${name}: ${got.faces.length} faces, before ${old.faces.length}`);
      return;
    }
    got.faces.forEach((f, k) => {
      const o = old.faces[k];
      faces++;
      const box = Math.max(...f.box.map((v, j) => Math.abs(v - o.box[j])));
      const cos = cosine(f.embedding, decode(o.embedding));
      worstBox = Math.max(worstBox, box);
      worstCos = Math.min(worstCos, cos);
      if (box > 0.5) problems.push(`${name} face ${k}: box moved ${box.toFixed(3)} px`);
      if (!(cos >= 0.9999)) problems.push(`${name} face ${k}: cosine ${cos}`);
      if (Math.abs(f.score - o.score) > 0.001) problems.push(`${name} face ${k}: score ${f.score} against ${o.score}`);
      for (const key of ['yaw', 'pitch', 'roll'] as const) {
        const [now, then] = [f.quality[key], o.quality[key]];
        if ((now === null) !== (then === null) || Math.abs((now ?? 0) - (then ?? 0)) > 0.05) problems.push(`${name} face ${k}: ${key} ${f.quality[key]} against ${o.quality[key]}`);
      }
      const sharpness = o.quality.sharpness ?? 0;
      if (Math.abs(f.quality.sharpness - sharpness) > 0.01 * sharpness + 0.5) {
        problems.push(`${name} face ${k}: sharpness ${f.quality.sharpness} against ${o.quality.sharpness}`);
      }
    });
  });
  t.same(problems, [], `${faces} faces; worst cosine ${worstCos.toFixed(7)}, worst box shift ${worstBox.toFixed(3)} px`);
  t.ok(faces >= 140, `${faces} faces compared`);
});
