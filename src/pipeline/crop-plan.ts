import pLimit from 'p-limit';
import type { SourceImage } from '../image/source.js';
import type { Box, Landmarks, RgbImage } from '../types.js';
import { alignedCrop, type CropSize, squareCrop } from './crops.js';
import { boxLevel, landmarksLevel } from './decode-scale.js';
import { timed, type StageTimings } from './timings.js';

/** What to crop for one face: aligned on its landmarks, or a plain square around its box. */
export type CropRequest = { landmarks: Landmarks } | { box: Box };

/** Items of one level worked on at once: enough to keep sharp's threads busy, few enough to bound memory. */
const AT_ONCE = 4;

/** Decoded-image pixels per image pixel, on each axis. */
export interface LevelScale {
  sx: number;
  sy: number;
}

/** The photo decoded at one level of the ladder at a time: asking for another level drops the last one. */
export class LevelDecoder {
  private current: { level: number; image: Promise<RgbImage> } | undefined;

  constructor(
    private readonly source: SourceImage,
    private readonly timings: StageTimings,
  ) {}

  get level(): number | undefined {
    return this.current?.level;
  }

  async image(level: number): Promise<{ image: RgbImage; scale: LevelScale }> {
    if (this.current?.level !== level) {
      this.current = undefined;
      this.current = { level, image: timed(this.timings, 'decode', () => this.source.decode(level)) };
    }
    const image = await this.current.image;
    return { image, scale: { sx: image.width / this.source.width, sy: image.height / this.source.height } };
  }

  /** Drop the decoded level and the photo's kept full-size decode: the crops are cut. */
  release(): void {
    this.current = undefined;
    this.source.release();
  }
}

/**
 * `work` for every item, on the photo decoded at the item's level. Levels run one after another (the
 * decode held already first), so a request holds one decode at a time whatever its item count.
 */
export async function byLevel<T, R>(
  items: readonly T[],
  levelOf: (item: T) => number,
  decoder: LevelDecoder,
  work: (item: T, image: RgbImage, scale: LevelScale) => Promise<R>,
): Promise<R[]> {
  const levels = items.map(levelOf);
  const order = [...new Set(levels)].sort((a, b) => (a === decoder.level ? -1 : b === decoder.level ? 1 : a - b));
  const results: R[] = new Array(items.length);
  const limit = pLimit(AT_ONCE);
  for (const level of order) {
    const { image, scale } = await decoder.image(level);
    await Promise.all(
      items.map((item, i) => (levels[i] === level ? limit(async () => void (results[i] = await work(item, image, scale))) : undefined)),
    );
  }
  return results;
}

/** Crops for the recognizer, each from the decode level its own landmarks (or box) call for. */
export async function cropFaces(requests: readonly CropRequest[], decoder: LevelDecoder, size: CropSize, timings: StageTimings): Promise<Uint8Array[]> {
  const start = performance.now();
  const decodeBefore = timings.decode;
  const crops = await byLevel(
    requests,
    (r) => ('landmarks' in r ? landmarksLevel(r.landmarks, size) : boxLevel(r.box, size)),
    decoder,
    (r, image, { sx, sy }) =>
      'landmarks' in r
        ? alignedCrop(image, r.landmarks.map(([x, y]) => [x * sx, y * sy]) as Landmarks, size)
        : squareCrop(image, [r.box[0] * sx, r.box[1] * sy, r.box[2] * sx, r.box[3] * sy], size),
  );
  timings.align += performance.now() - start - (timings.decode - decodeBefore);
  return crops;
}
