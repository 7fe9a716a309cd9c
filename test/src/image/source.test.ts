import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import t from 'tap';
import { LumenError } from '../../../src/errors.js';
import { DecodeLadder, detectorInput } from '../../../src/image/ladder.js';
import { SourceImage } from '../../../src/image/source.js';
import type { Asserts } from '../../helpers/asserts.js';

const limits = { maxPixels: 10_000_000 };

/** 40x20: left half red, right half blue. */
const halves = () =>
  sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 255, g: 0, b: 0 } } }).composite([
    { input: { create: { width: 20, height: 20, channels: 3, background: { r: 0, g: 0, b: 255 } } }, left: 20, top: 0 },
  ]);

const pixel = (img: { data: Uint8Array; width: number }, x: number, y: number) => {
  const i = (y * img.width + x) * 3;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
};

async function rejects(t: Asserts, promise: Promise<unknown>, status: number, code: string, message: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof LumenError, 'a LumenError');
  t.equal((err as LumenError).status, status);
  t.equal((err as LumenError).code, code);
  t.match((err as LumenError).message, message);
}

t.test('every accepted format decodes to upright 8-bit RGB', async (t) => {
  const encoders = {
    jpeg: (s: Sharp) => s.jpeg({ quality: 100 }),
    png: (s: Sharp) => s.png(),
    webp: (s: Sharp) => s.webp({ lossless: true }),
    avif: (s: Sharp) => s.avif({ lossless: true }),
    gif: (s: Sharp) => s.gif(),
    tiff: (s: Sharp) => s.tiff(),
  };
  for (const [format, encode] of Object.entries(encoders)) {
    const bytes = await encode(halves()).toBuffer();
    const source = await SourceImage.open(bytes, limits);
    t.equal(source.format, format);
    const image = await source.decode();
    t.equal(image.width, 40, format);
    t.equal(image.height, 20, format);
    t.equal(image.data.length, 40 * 20 * 3);
    const [r, g, b] = pixel(image, 5, 10);
    t.ok(r > 200 && g < 60 && b < 60, `${format}: left is red, got ${r},${g},${b}`);
    const [r2, , b2] = pixel(image, 35, 10);
    t.ok(b2 > 200 && r2 < 60, `${format}: right is blue (RGB order kept)`);
  }
});

t.test('EXIF orientation is applied before anything else', async (t) => {
  // Stored 20x40 with red on top; orientation 6 means "rotate 90° clockwise to display", so red ends up on the right.
  const stored = await sharp(await halves().png().toBuffer())
    .rotate(270)
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const source = await SourceImage.open(stored, limits);
  t.equal(source.width, 40);
  t.equal(source.height, 20);
  const image = await source.decode();
  t.equal(image.width, 40);
  const [r] = pixel(image, 5, 10);
  const [, , b] = pixel(image, 35, 10);
  t.ok(r > 200 && b > 200, 'red left, blue right after orientation');
  const boxed = await detectorInput(new DecodeLadder(source), 64, false);
  t.equal(boxed.image.width, 64);
  t.equal(boxed.scale, 1, 'a photo smaller than the detector is not enlarged');
  t.ok(pixel(boxed.image, 5, 10)[0] > 200, 'letterbox sees the upright image');
  t.same(pixel(boxed.image, 5, 50), [0, 0, 0], 'padding is black, at the bottom');
});

t.test('grayscale, 16-bit, CMYK and alpha become 8-bit sRGB', async (t) => {
  const gray = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 100, g: 100, b: 100 } } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  t.same(pixel(await (await SourceImage.open(gray, limits)).decode(), 1, 1), [100, 100, 100]);

  const sixteen = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  t.equal((await sharp(sixteen).metadata()).depth, 'ushort', 'the fixture really is 16-bit');
  t.same(pixel(await (await SourceImage.open(sixteen, limits)).decode(), 1, 1), [255, 0, 0]);

  const cmyk = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .toColourspace('cmyk')
    .jpeg()
    .toBuffer();
  t.equal((await sharp(cmyk).metadata()).space, 'cmyk', 'the fixture really is CMYK');
  const [r, , b] = pixel(await (await SourceImage.open(cmyk, limits)).decode(), 1, 1);
  t.ok(b > 100 && r < 60, `CMYK blue stays blue: ${r},${b}`);

  const alpha = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } })
    .png()
    .toBuffer();
  const flat = await (await SourceImage.open(alpha, limits)).decode();
  t.equal(flat.data.length, 8 * 8 * 3);
  t.same(pixel(flat, 1, 1), [0, 0, 0], 'transparent pixels are flattened onto black');
});

t.test('GIF: the first frame', async (t) => {
  const frame = (r: number, b: number) => ({ create: { width: 4, height: 4, channels: 3 as const, background: { r, g: 0, b } } });
  const gif = await sharp([await sharp(frame(255, 0)).png().toBuffer(), await sharp(frame(0, 255)).png().toBuffer()], { join: { animated: true } })
    .gif()
    .toBuffer();
  t.equal((await sharp(gif).metadata()).pages, 2);
  const image = await (await SourceImage.open(gif, limits)).decode();
  t.equal(image.height, 4, 'one frame, not a tall strip');
  t.ok(pixel(image, 1, 1)[0] > 200, 'first frame is red');
});

t.test('oversized images are refused from the header, before decoding', async (t) => {
  // A PNG header claiming 60000 x 60000 (3.6 gigapixels) with almost no data: a decompression bomb.
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60000, 0);
  ihdr.writeUInt32BE(60000, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), data])) >>> 0);
    return Buffer.concat([length, Buffer.from(type), data, crc]);
  };
  const idat = chunk('IDAT', deflateSync(Buffer.alloc(1024)));
  const bomb = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), idat, chunk('IEND', Buffer.alloc(0))]);
  const start = performance.now();
  await rejects(t, SourceImage.open(bomb, limits), 413, 'IMAGE_TOO_LARGE', /60000x60000 = 3600000000 pixels; the limit is 10000000/);
  t.ok(performance.now() - start < 1000, 'fails fast');
  await rejects(t, SourceImage.open({ data: new Uint8Array(3 * 4000 * 4000), width: 4000, height: 4000 }, limits), 413, 'IMAGE_TOO_LARGE', /4000x4000/);
});

t.test('anything that is not a decodable image gets 415 saying what was received', async (t) => {
  await rejects(t, SourceImage.open(Buffer.from('hello world, not an image'), limits), 415, 'UNSUPPORTED_IMAGE', /received plain text/);
  await rejects(t, SourceImage.open(Buffer.from('%PDF-1.7\n...'), limits), 415, 'UNSUPPORTED_IMAGE', /received a PDF document/);
  const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(64)]);
  await rejects(t, SourceImage.open(heic, limits), 415, 'UNSUPPORTED_IMAGE', /HEIF\/HEIC \(brand "heic"\)/);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  await rejects(t, SourceImage.open(svg, limits), 415, 'UNSUPPORTED_IMAGE', /received SVG/);
  const jpeg = await halves().jpeg().toBuffer();
  await rejects(
    t,
    SourceImage.open(jpeg.subarray(0, 200), limits).then((s) => s.decode()),
    415,
    'UNSUPPORTED_IMAGE',
    /could not be decoded/,
  );
  await rejects(t, SourceImage.open({ data: new Uint8Array(5), width: 2, height: 2 }, limits), 400, 'INVALID_IMAGE', /needs 12 bytes, received 5/);
});

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c;
}
