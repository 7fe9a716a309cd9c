import { identityPhotos, readFace } from '../dev/fixtures.js';
import { listeningApp, median } from './servers.js';

/**
 * Images/s for the same photos through immich's POST /predict (sent as immich's server sends it) and
 * through POST /v1/faces at the same minimum score, one client sending one request at a time over a
 * real socket. The rounds alternate between the two routes so that load from elsewhere hits both.
 */

const MIN_SCORE = 0.7;

async function predict(base: string, model: string, photo: Buffer): Promise<number> {
  const body = new FormData();
  body.append(
    'entries',
    JSON.stringify({
      'facial-recognition': { detection: { modelName: model, options: { minScore: MIN_SCORE } }, recognition: { modelName: model } },
    }),
  );
  body.append('image', new Blob([new Uint8Array(photo)]));
  const res = await fetch(`${base}/predict`, { method: 'POST', body });
  if (!res.ok) throw new Error(`/predict: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { 'facial-recognition': unknown[] })['facial-recognition'].length;
}

async function faces(base: string, photo: Buffer): Promise<number> {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  const res = await fetch(`${base}/v1/faces?min_score=${MIN_SCORE}`, { method: 'POST', body });
  if (!res.ok) throw new Error(`/v1/faces: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { faces: unknown[] }).faces.length;
}

export async function immichBench(model = 'scrfd_2.5g_mbf', count = 32, rounds = 5): Promise<string[]> {
  const { app, base } = await listeningApp(model);
  const photos = identityPhotos()
    .slice(0, count)
    .map((p) => readFace(p.path));
  const megabytes = photos.reduce((sum, p) => sum + p.length, 0) / 2 ** 20;

  const run = async (send: (photo: Buffer) => Promise<number>) => {
    const start = performance.now();
    let found = 0;
    for (const photo of photos) found += await send(photo);
    return { seconds: (performance.now() - start) / 1000, found };
  };
  const viaPredict = (photo: Buffer) => predict(base, model, photo);
  const viaFaces = (photo: Buffer) => faces(base, photo);
  for (const photo of photos.slice(0, 4)) await Promise.all([viaPredict(photo), viaFaces(photo)]); // warm-up

  const predictSeconds: number[] = [];
  const facesSeconds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = await run(round % 2 ? viaFaces : viaPredict);
    const second = await run(round % 2 ? viaPredict : viaFaces);
    if (first.found !== second.found) throw new Error(`the routes found different faces: ${first.found} and ${second.found}`);
    (round % 2 ? facesSeconds : predictSeconds).push(first.seconds);
    (round % 2 ? predictSeconds : facesSeconds).push(second.seconds);
  }
  await app.close();

  const row = (name: string, seconds: number[]) =>
    `${name.padEnd(36)} ${(count / median(seconds)).toFixed(2).padStart(6)} images/s   (median of ${rounds}: ${median(seconds).toFixed(2)} s; runs ${seconds.map((s) => s.toFixed(2)).join(', ')} s)`;
  return [
    `## immich /predict against /v1/faces (${model} fp32, ${count} identity photos, ${megabytes.toFixed(1)} MB, one request at a time, real socket)`,
    row("POST /predict (immich's form)", predictSeconds),
    row(`POST /v1/faces?min_score=${MIN_SCORE}`, facesSeconds),
  ];
}
