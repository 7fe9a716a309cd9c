import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SCRFD_NORM } from '../src/face/scrfd.js';
import { rgbToNchw } from '../src/face/tensor-layout.js';
import type { PhotoSet } from './photo-sets.js';

/**
 * The bare model limit: per photo, one detection run at 640x640 plus one
 * recognition run (batch 1) per face found, on sessions created with default options and called
 * back to back in this process. Inputs are prepared before the clock starts: no decoding, nothing else.
 */

export interface BareModels {
  detection: ort.InferenceSession;
  recognition: ort.InferenceSession;
}

export async function bareModels(detectionPath: string, recognitionPath: string): Promise<BareModels> {
  return { detection: await ort.InferenceSession.create(detectionPath), recognition: await ort.InferenceSession.create(recognitionPath) };
}

export async function detectorInputs(set: PhotoSet, size: number): Promise<ort.Tensor[]> {
  const inputs: ort.Tensor[] = [];
  for (const photo of set.photos) {
    const image = await squareLetterbox(photo.bytes, size);
    inputs.push(new ort.Tensor('float32', rgbToNchw(image, 1, size, size, SCRFD_NORM.mean, SCRFD_NORM.std), [1, 3, size, size]));
  }
  return inputs;
}

/** The upright photo fitted into a size x size square (enlarged when smaller), black at the right and bottom. */
export async function squareLetterbox(bytes: Uint8Array, size: number): Promise<Uint8Array> {
  const { width = 1, height = 1, orientation = 1 } = await sharp(bytes).metadata();
  const [w, h] = orientation >= 5 ? [height, width] : [width, height];
  const [newWidth, newHeight] = h > w ? [Math.max(1, Math.floor((size * w) / h)), size] : [size, Math.max(1, Math.floor((size * h) / w))];
  const data = await sharp(bytes)
    .rotate()
    .resize(newWidth, newHeight, { fit: 'fill' })
    .extend({ right: size - newWidth, bottom: size - newHeight, background: { r: 0, g: 0, b: 0 } })
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Images per second the models alone sustain on this set, given the faces each photo has. */
export async function bareLimit(models: BareModels, inputs: ort.Tensor[], facesPerPhoto: number[], seconds: number): Promise<number> {
  const crop = new ort.Tensor('float32', new Float32Array(3 * 112 * 112).fill(0.1), [1, 3, 112, 112]);
  const detName = models.detection.inputNames[0];
  const recName = models.recognition.inputNames[0];
  const runPhoto = async (i: number) => {
    await models.detection.run({ [detName]: inputs[i] });
    for (let f = 0; f < facesPerPhoto[i]; f++) await models.recognition.run({ [recName]: crop });
  };
  await runPhoto(0);
  const start = performance.now();
  let images = 0;
  while (performance.now() - start < seconds * 1000) await runPhoto(images++ % inputs.length);
  return images / ((performance.now() - start) / 1000);
}
