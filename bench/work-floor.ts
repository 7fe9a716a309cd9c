import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PhotoSet } from './photo-sets.js';

/**
 * The work floor: the work no face service can skip, on every core at once. Per photo, one sharp
 * decode of the real photo (EXIF-rotated, full size, to raw RGB), one detection run at 640x640 and
 * one batch-1 recognition run per face; one worker thread per CPU, each with its own single-threaded
 * sessions and sharp.concurrency(1), back to back, with the server idle. Detector inputs are made
 * before the clock starts (letterboxing is the service's own overhead, not the floor's).
 */

export interface WorkFloor {
  imagesPerSecond: number;
  workers: number;
  /** Milliseconds per photo (decode, detection) and per face (recognition), on one core while all run. */
  decodeMs: number;
  detectMs: number;
  recognizeMsPerFace: number;
  /** CPU time of this process (every thread) per photo while the floor ran: what a photo costs the machine. */
  cpuMsPerImage: number;
  /** Photos done and seconds taken, so rounds can be added up. */
  photos: number;
  seconds: number;
}

interface WorkerResult {
  photos: number;
  seconds: number;
  decode: number;
  detect: number;
  recognize: number;
  faces: number;
}

export async function workFloor(
  detectionPath: string,
  recognitionPath: string,
  set: PhotoSet,
  faces: number[],
  letterboxes: Float32Array[],
  detSize: number,
  seconds: number,
): Promise<WorkFloor> {
  const workers = os.availableParallelism();
  const start = new SharedArrayBuffer(8);
  const photos = set.photos.map((p, i) => ({ bytes: new Uint8Array(p.bytes), faces: faces[i], letterbox: letterboxes[i] }));
  const ready: Promise<void>[] = [];
  const results = Array.from({ length: workers }, () => {
    const worker = new Worker(new URL('./work-floor-worker.js', import.meta.url), {
      workerData: { detectionPath, recognitionPath, photos, detSize, seconds, start },
    });
    ready.push(new Promise((resolve, reject) => worker.once('message', () => resolve()).once('error', reject)));
    return new Promise<WorkerResult>((resolve, reject) => {
      worker.on('message', (m: WorkerResult | { ready: true }) => {
        if (!('ready' in m)) resolve(m);
      });
      worker.once('error', reject);
    });
  });
  await Promise.all(ready);
  const flag = new Int32Array(start);
  const cpuBefore = process.cpuUsage();
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  const all = await Promise.all(results);
  const cpu = process.cpuUsage(cpuBefore);
  const sum = (k: keyof WorkerResult) => all.reduce((a, r) => a + r[k], 0);
  return {
    imagesPerSecond: all.reduce((a, r) => a + r.photos / r.seconds, 0),
    workers,
    decodeMs: sum('decode') / sum('photos'),
    detectMs: sum('detect') / sum('photos'),
    recognizeMsPerFace: sum('recognize') / Math.max(1, sum('faces')),
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / sum('photos'),
    photos: sum('photos'),
    seconds: Math.max(...all.map((r) => r.seconds)),
  };
}
