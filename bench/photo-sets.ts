import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FACES_DIR, loadLabels } from '../dev/fixtures.js';

export interface Photo {
  name: string;
  bytes: Buffer;
}

export interface PhotoSet {
  name: string;
  photos: Photo[];
}

/** Every photo of the shared set: identities, groups and no-face photos (about 1 MP each). */
export function smallPhotos(): PhotoSet {
  const labels = loadLabels();
  const paths = [...Object.values(labels.identities).flat(), ...Object.keys(labels.groups), ...labels.noface];
  return { name: 'small', photos: paths.map((p) => ({ name: p, bytes: readFileSync(join(FACES_DIR, p)) })) };
}

const TWELVE_MP = 12_000_000;

/**
 * The group photos upscaled to about 12 MP, as a camera would give them: JPEG quality 90, EXIF kept.
 * Generated once into a cache folder under the temp directory, never committed.
 */
export async function twelveMegapixelPhotos(): Promise<PhotoSet> {
  const dir = join(tmpdir(), 'lumen-face-bench-12mp-v1');
  mkdirSync(dir, { recursive: true });
  const groups = readdirSync(join(FACES_DIR, 'groups'))
    .filter((f) => f.endsWith('.jpg'))
    .sort();
  const photos: Photo[] = [];
  for (const file of groups) {
    const target = join(dir, file);
    if (!existsSync(target)) {
      const input = readFileSync(join(FACES_DIR, 'groups', file));
      const { width = 1, height = 1 } = await sharp(input).metadata();
      const scale = Math.sqrt(TWELVE_MP / (width * height));
      const bytes = await sharp(input)
        .resize(Math.round(width * scale), Math.round(height * scale))
        .keepMetadata()
        .jpeg({ quality: 90 })
        .toBuffer();
      writeFileSync(target, bytes);
    }
    photos.push({ name: `12mp/${file}`, bytes: readFileSync(target) });
  }
  return { name: '12 MP', photos };
}
