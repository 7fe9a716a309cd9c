import { identityPhotos, readFace } from '../dev/fixtures.js';
import { listeningApp, median } from './servers.js';

/**
 * Images/s for the same 32 photos sent as one /v1/faces/batch request, and as 32 single /v1/faces
 * requests with 4 in flight at a time, over a real socket with the default in-flight limit.
 */

const form = (photos: Buffer[]) => {
  const body = new FormData();
  for (const [i, photo] of photos.entries()) body.append('image', new Blob([photo as BlobPart], { type: 'image/jpeg' }), `${i}.jpg`);
  return body;
};

async function post(url: string, photos: Buffer[]): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', body: form(photos) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function singles(base: string, photos: Buffer[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < photos.length) await post(`${base}/v1/faces`, [photos[next++]]);
    }),
  );
}

export async function batchBench(model = 'scrfd_2.5g_mbf', count = 32, concurrency = 4, rounds = 3): Promise<string[]> {
  const { app, base } = await listeningApp(model);
  const photos = identityPhotos()
    .slice(0, count)
    .map((p) => readFace(p.path));
  const megabytes = photos.reduce((sum, p) => sum + p.length, 0) / 2 ** 20;

  await post(`${base}/v1/faces/batch`, photos.slice(0, 4)); // warm-up
  const batchSeconds: number[] = [];
  const singleSeconds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    const { results } = (await post(`${base}/v1/faces/batch`, photos)) as { results: { faces?: unknown[] }[] };
    batchSeconds.push((performance.now() - start) / 1000);
    if (results.length !== count || results.some((r) => !r.faces)) throw new Error('the batch did not answer every photo');
    start = performance.now();
    await singles(base, photos, concurrency);
    singleSeconds.push((performance.now() - start) / 1000);
  }
  await app.close();

  const row = (name: string, seconds: number[]) =>
    `${name.padEnd(44)} ${(count / median(seconds)).toFixed(2).padStart(6)} images/s   (median of ${rounds}: ${median(seconds).toFixed(2)} s; runs ${seconds.map((s) => s.toFixed(2)).join(', ')} s)`;
  return [
    `## /v1/faces/batch against single requests (${model} fp32, ${count} identity photos, ${megabytes.toFixed(1)} MB, real socket)`,
    row(`one batch request of ${count} photos`, batchSeconds),
    row(`${count} single /v1/faces requests, ${concurrency} at a time`, singleSeconds),
  ];
}
