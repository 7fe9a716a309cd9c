/**
 * What the decode ladder does on 12 MP photos, with sharp on one thread (median of RUNS, ms): the
 * full-size decode the work floor pays, against the ladder's decodes for the letterbox and the crops
 * of the faces found (src/image/ladder.ts), and the sizes it decoded at.
 */
import sharp from 'sharp';
import { DecodeLadder, detectorInput } from '../src/image/ladder.js';
import { SourceImage } from '../src/image/source.js';
import { cropFaces } from '../src/pipeline/crops.js';
import type { Landmarks } from '../src/types.js';
import { backendFor, percentile, readFace } from '../dev/fixtures.js';

const RUNS = 9;
const limits = { maxPixels: 1e8 };
const ms = (x: number) => x.toFixed(1);
const CROP = { width: 112, height: 112 };

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
    [
      't1.jpg (6 faces) upscaled to 4000x3000',
      await sharp(readFace('groups/t1.jpg')).rotate().resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer(),
    ],
    [
      'selfie_many_people.jpg upscaled to 4000x3000',
      await sharp(readFace('groups/selfie_many_people.jpg')).rotate().resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer(),
    ],
    [
      'Angelina_Jolie/07.jpg (1 face) upscaled to 3000x4000',
      await sharp(readFace('identities/Angelina_Jolie/07.jpg')).rotate().resize(3000, 4000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer(),
    ],
  ];
  const backend = await backendFor();
  const concurrency = sharp.concurrency();
  sharp.concurrency(1);
  const out = [
    `## The decode ladder on 12 MP photos (sharp on 1 thread, median of ${RUNS}, ms)`,
    '',
    '| photo | faces | full decode | ladder: letterbox | ladder: letterbox + crops | decodes (size) |',
    '|:--|--:|--:|--:|--:|:--|',
  ];
  try {
    for (const [name, bytes] of photos) {
      const source = await SourceImage.open(bytes, limits);
      const { faces } = await backend.detect(bytes);
      const requests = faces.map((f) => ({ landmarks: f.landmarks as Landmarks }));
      const fullMs = await median(() => source.decode());
      const letterboxMs = await median(() => detectorInput(new DecodeLadder(source), detSize, true));
      let ladder = new DecodeLadder(source);
      const bothMs = await median(async () => {
        ladder = new DecodeLadder(source);
        await detectorInput(ladder, detSize, true);
        await cropFaces(requests, ladder, CROP);
      });
      out.push(
        `| ${name} | ${faces.length} | ${ms(fullMs)} | ${ms(letterboxMs)} | ${ms(bothMs)} | ${ladder.decodes.map((d) => `${d.width}x${d.height}`).join(', ')} |`,
      );
    }
  } finally {
    sharp.concurrency(concurrency);
    await backend.close();
  }
  return out;
}
