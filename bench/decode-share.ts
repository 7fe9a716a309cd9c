/**
 * Whether one shrink-on-load decode of a 12 MP photo can serve both the letterbox and the crops,
 * instead of one decode for each. For each 12 MP photo this times, with sharp on
 * one thread: the letterbox straight from the JPEG (today), the decode at each face's crop level
 * (today), and the alternative: one decode at the letterbox's own shrink-on-load level, letterboxed
 * from memory, serving the crops of faces whose level is that one.
 */
import sharp from 'sharp';
import { letterbox } from '../src/image/letterbox.js';
import { levelSize, SourceImage, toRgb } from '../src/image/source.js';
import { landmarksLevel } from '../src/pipeline/decode-scale.js';
import type { Landmarks } from '../src/types.js';
import { backendFor, percentile, readFace } from '../dev/fixtures.js';

const RUNS = 9;
const limits = { maxPixels: 1e8 };
const ms = (x: number) => x.toFixed(1);

async function median(work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return percentile(times, 50);
}

export async function decodeShareBench(detSize = 640): Promise<string[]> {
  const photos: [string, Buffer][] = [
    ['t1.jpg (6 faces) upscaled to 4000x3000', await sharp(readFace('groups/t1.jpg')).rotate().resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer()],
    ['selfie_many_people.jpg upscaled to 4000x3000', await sharp(readFace('groups/selfie_many_people.jpg')).rotate().resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer()],
    ['Angelina_Jolie/07.jpg (1 face) upscaled to 3000x4000', await sharp(readFace('identities/Angelina_Jolie/07.jpg')).rotate().resize(3000, 4000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer()],
  ];
  const backend = await backendFor();
  const concurrency = sharp.concurrency();
  sharp.concurrency(1);
  const out = [
    `## One decode for letterbox and crops? (sharp on 1 thread, median of ${RUNS}, ms)`,
    '',
    '| photo | face levels | letterbox from JPEG | crop decodes today | letterbox level | its decode | letterbox from it | crops it could serve | letterbox pixels differ (mean abs, max) |',
    '|:--|:--|--:|--:|--:|--:|--:|--:|:--|',
  ];
  try {
    for (const [name, bytes] of photos) {
      const source = await SourceImage.open(bytes, limits);
      const { faces } = await backend.detect(bytes);
      const size = { width: 112, height: 112 };
      const levels = faces.map((f) => landmarksLevel(f.landmarks as Landmarks, size));
      const distinct = [...new Set(levels)];
      const letterboxMs = await median(() => letterbox(source, detSize));
      const cropDecodeMs = await median(() => Promise.all(distinct.map((k) => source.decode(k))));
      // The coarsest level that still holds the detector's input: what shrink-on-load could give it.
      const level = Math.max(0, Math.floor(Math.log2(Math.max(source.width, source.height) / detSize)));
      const levelMs = await median(() => source.decode(level));
      const decoded = await source.decode(level);
      const fromMemory = await SourceImage.open(decoded, limits);
      const { width, height } = levelSize(source.width, source.height, level);
      const target = source.width >= source.height ? [detSize, Math.floor((detSize * height) / width)] : [Math.floor((detSize * width) / height), detSize];
      const viaMs = await median(() => toRgb(fromMemory.pipeline().resize(target[0], target[1], { fit: 'fill' })));
      const direct = await toRgb(source.pipeline().resize(target[0], target[1], { fit: 'fill' }));
      const via = await toRgb(fromMemory.pipeline().resize(target[0], target[1], { fit: 'fill' }));
      let sum = 0;
      let max = 0;
      for (let i = 0; i < direct.data.length; i++) {
        const d = Math.abs(direct.data[i] - via.data[i]);
        sum += d;
        max = Math.max(max, d);
      }
      const served = levels.filter((k) => k === level).length;
      out.push(
        `| ${name} | ${levels.join(' ')} | ${ms(letterboxMs)} | ${ms(cropDecodeMs)} (${distinct.length}) | ${level} | ${ms(levelMs)} | ${ms(viaMs)} | ${served} of ${faces.length} | ${(sum / direct.data.length).toFixed(2)}, ${max} |`,
      );
    }
  } finally {
    sharp.concurrency(concurrency);
    await backend.close();
  }
  return out;
}
