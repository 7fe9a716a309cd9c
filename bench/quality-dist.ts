/**
 * Distribution of the face quality estimates on the shared photos, and how they relate to recognition:
 * `npm run bench -- quality-dist`.
 *
 * Every face that detect() finds in the identity and group photos (scrfd_2.5g_mbf fp32) gives |yaw|,
 * pitch, roll, sharpness and size percentiles. For the identity photos, the largest face's mean cosine
 * to the other photos of the same person shows which quality ranges hurt recognition. A blur ladder
 * (sharp's Gaussian blur in pixels of the 112-pixel template) ties sharpness values to visible blur.
 */
import sharp from 'sharp';
import type { FaceQuality } from '../src/face/quality.js';
import { backendFor, cosine, identityPhotos, loadLabels, mean, percentile, readFace } from '../dev/fixtures.js';

const PERCENTILES = [5, 25, 50, 75, 95];
const BLUR_SIGMAS = [0, 1, 1.5, 2, 3];

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

export async function qualityDistBench(): Promise<string[]> {
  const backend = await backendFor('scrfd_2.5g_mbf', 'fp32');
  try {
    const labels = loadLabels();
    const photos = identityPhotos(labels);
    const all: FaceQuality[] = [];
    const largest: { identity: string; quality: FaceQuality; embedding: Float32Array; path: string }[] = [];
    for (const { identity, path } of photos) {
      const { faces } = await backend.faces(readFace(path));
      all.push(...faces.map((f) => f.quality));
      if (faces[0]) largest.push({ identity, quality: faces[0].quality, embedding: faces[0].embedding, path });
    }
    for (const path of Object.keys(labels.groups)) all.push(...(await backend.detect(readFace(path))).faces.map((f) => f.quality));

    const metrics: [string, (q: FaceQuality) => number][] = [
      ['abs(yaw)', (q) => Math.abs(q.yaw ?? NaN)],
      ['pitch', (q) => q.pitch ?? NaN],
      ['roll', (q) => q.roll ?? NaN],
      ['sharpness', (q) => q.sharpness],
      ['size (px)', (q) => q.size],
    ];
    const out: string[] = [];
    out.push(
      `## Face quality on the shared photos: ${all.length} faces (every face of ${photos.length} identity and ${Object.keys(labels.groups).length} group photos), scrfd_2.5g_mbf fp32`,
    );
    out.push('');
    out.push(
      table(
        ['metric', ...PERCENTILES.map((p) => `p${p}`)],
        metrics.map(([name, get]) => {
          const values = all.map(get).filter(Number.isFinite);
          return [name, ...PERCENTILES.map((p) => f1(percentile(values, p)))];
        }),
      ),
    );

    // Each identity photo's mean cosine to the other photos of the same person, grouped by quality.
    const sameMean = largest.map((a, i) => {
      const others = largest.filter((b, j) => j !== i && b.identity === a.identity);
      return others.length ? mean(others.map((b) => cosine(a.embedding, b.embedding))) : NaN;
    });
    const buckets: [string, (q: FaceQuality) => boolean][] = [
      ['abs(yaw) < 15', (q) => Math.abs(q.yaw ?? 90) < 15],
      ['15 <= abs(yaw) < 30', (q) => Math.abs(q.yaw ?? 90) >= 15 && Math.abs(q.yaw ?? 90) < 30],
      ['abs(yaw) >= 30', (q) => Math.abs(q.yaw ?? 90) >= 30],
      ['sharpness < 100', (q) => q.sharpness < 100],
      ['100 <= sharpness < 200', (q) => q.sharpness >= 100 && q.sharpness < 200],
      ['sharpness >= 200', (q) => q.sharpness >= 200],
    ];
    out.push('');
    out.push('Largest face of each identity photo: its mean cosine to the other photos of the same person, by quality.');
    out.push('');
    out.push(
      table(
        ['faces with', 'photos', 'mean same-person cosine', 'lowest'],
        buckets.map(([name, test]) => {
          const values = largest.flatMap((l, i) => (test(l.quality) && Number.isFinite(sameMean[i]) ? [sameMean[i]] : []));
          return [name, String(values.length), values.length ? mean(values).toFixed(3) : '-', values.length ? Math.min(...values).toFixed(3) : '-'];
        }),
      ),
    );

    // Blur ladder: the identity photos whose largest face is at least the template size.
    const ladderPhotos = largest.filter((l) => l.quality.size >= 112);
    const ladder = BLUR_SIGMAS.map(() => [] as number[]);
    for (const l of ladderPhotos) {
      const unit = l.quality.size / 112;
      for (const [k, sigma] of BLUR_SIGMAS.entries()) {
        const image = sharp(readFace(l.path)).rotate();
        const bytes = await (sigma > 0 ? image.blur(sigma * unit) : image).png().toBuffer();
        const face = (await backend.detect(bytes, { max_faces: 1 })).faces[0];
        if (face) ladder[k].push(face.quality.sharpness);
      }
    }
    out.push('');
    out.push(
      `Blur ladder: ${ladderPhotos.length} identity photos whose face is at least 112 px, blurred by sharp (Gaussian sigma in template pixels, i.e. face size / 112); sharpness of the largest face.`,
    );
    out.push('');
    out.push(
      table(
        ['sigma (template px)', 'faces', ...PERCENTILES.map((p) => `p${p}`)],
        BLUR_SIGMAS.map((sigma, k) => [
          sigma === 0 ? 'none' : String(sigma),
          String(ladder[k].length),
          ...PERCENTILES.map((p) => f1(percentile(ladder[k], p))),
        ]),
      ),
    );
    return out;
  } finally {
    await backend.close();
  }
}
