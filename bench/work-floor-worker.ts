import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * One core's share of the work floor (see work-floor.ts): single-threaded sessions, sharp on one
 * thread, photos back to back. Times each part, so the floor's breakdown comes from the same run.
 */

interface Setup {
  detectionPath: string;
  recognitionPath: string;
  photos: { bytes: Uint8Array; faces: number; letterbox: Float32Array }[];
  detSize: number;
  seconds: number;
  start: SharedArrayBuffer;
}

const setup = workerData as Setup;
sharp.concurrency(1);
const options: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  logSeverityLevel: 3,
};
const detection = await ort.InferenceSession.create(setup.detectionPath, options);
const recognition = await ort.InferenceSession.create(setup.recognitionPath, options);
const crop = new ort.Tensor('float32', new Float32Array(3 * 112 * 112).fill(0.1), [1, 3, 112, 112]);
const inputs = setup.photos.map((p) => new ort.Tensor('float32', p.letterbox, [1, 3, setup.detSize, setup.detSize]));

async function photo(i: number, totals: { decode: number; detect: number; recognize: number; faces: number }) {
  const p = setup.photos[i];
  let t = performance.now();
  await sharp(p.bytes).rotate().raw().toBuffer();
  totals.decode += performance.now() - t;
  t = performance.now();
  await detection.run({ [detection.inputNames[0]]: inputs[i] });
  totals.detect += performance.now() - t;
  t = performance.now();
  for (let f = 0; f < p.faces; f++) await recognition.run({ [recognition.inputNames[0]]: crop });
  totals.recognize += performance.now() - t;
  totals.faces += p.faces;
}

const warm = { decode: 0, detect: 0, recognize: 0, faces: 0 };
await photo(0, warm);
// Every worker starts the clock together, once all have warmed up.
const flag = new Int32Array(setup.start);
Atomics.add(flag, 0, 1);
parentPort!.postMessage({ ready: true });
Atomics.wait(flag, 1, 0);
const totals = { decode: 0, detect: 0, recognize: 0, faces: 0 };
const begin = performance.now();
let photos = 0;
while (performance.now() - begin < setup.seconds * 1000) await photo(photos++ % setup.photos.length, totals);
parentPort!.postMessage({ photos, seconds: (performance.now() - begin) / 1000, ...totals });
