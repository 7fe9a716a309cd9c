import * as grpc from '@grpc/grpc-js';
import { loadProtocol, type InferRequest, type InferResponse } from '../grpc/protocol.js';
import { startGrpc } from '../server/grpc.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { identityPhotos, readFace, testEnv } from '../dev/fixtures.js';
import { median } from './servers.js';

/**
 * Images/s for the same photos through gRPC's face_detect_and_embed (one Infer stream per photo, as a
 * Lumilio node client sends it) and through POST /v1/faces at the same thresholds, over real sockets of
 * one process. One client sending one photo at a time, then 4 clients at once; the rounds alternate
 * between the protocols so that load from elsewhere hits both.
 */

// /v1/faces has no upper face size: face_size_max is lifted above any photo's side (its default, 1000 px, drops close-up faces).
const META = { detection_confidence_threshold: '0.7', nms_threshold: '0.4', face_size_min: '50', face_size_max: '100000' };
const QUERY = 'min_score=0.7&nms=0.4&min_size=50';

type InferClient = grpc.Client & { Infer(): grpc.ClientDuplexStream<Partial<InferRequest>, InferResponse> };

function viaGrpc(client: InferClient, photo: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = client.Infer();
    let found = -1;
    call.on('data', (r: InferResponse) => {
      if (r.error) reject(new Error(`gRPC: ${r.error.code} ${r.error.message}`));
      else found = Number(r.meta.face_count);
    });
    call.on('error', reject);
    call.on('end', () => resolve(found));
    call.write({ correlation_id: 'bench', task: 'face_detect_and_embed', payload: photo, payload_mime: 'image/jpeg', meta: META });
    call.end();
  });
}

async function viaHttp(base: string, photo: Buffer): Promise<number> {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  const res = await fetch(`${base}/v1/faces?${QUERY}`, { method: 'POST', body });
  if (!res.ok) throw new Error(`/v1/faces: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { faces: unknown[] }).faces.length;
}

export async function grpcBench(model = 'scrfd_2.5g_mbf', count = 32, rounds = 5): Promise<string[]> {
  const config = loadConfig(testEnv({ LUMEN_FACE_MODEL_NAME: model, LUMEN_FACE_GRPC_PORT: '0' }));
  const app = await buildApp({ config, logger: false });
  const server = await startGrpc(app, config);
  await app.faceBackend.loaded;
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const { Inference } = loadProtocol();
  const client = new Inference(`127.0.0.1:${server!.port}`, grpc.credentials.createInsecure()) as unknown as InferClient;
  const photos = identityPhotos()
    .slice(0, count)
    .map((p) => readFace(p.path));
  const megabytes = photos.reduce((sum, p) => sum + p.length, 0) / 2 ** 20;

  /** All photos through `send`, `clients` at a time. */
  const run = async (send: (photo: Buffer) => Promise<number>, clients: number) => {
    const start = performance.now();
    let next = 0;
    let found = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < photos.length) {
          const faces = await send(photos[next++]);
          found += faces;
        }
      }),
    );
    return { seconds: (performance.now() - start) / 1000, found };
  };
  const grpcSend = (photo: Buffer) => viaGrpc(client, photo);
  const httpSend = (photo: Buffer) => viaHttp(base, photo);
  for (const photo of photos.slice(0, 4)) await Promise.all([grpcSend(photo), httpSend(photo)]); // warm-up

  const lines: string[] = [];
  const row = (name: string, seconds: number[]) =>
    `${name.padEnd(44)} ${(count / median(seconds)).toFixed(2).padStart(6)} images/s   (median of ${rounds}: ${median(seconds).toFixed(2)} s; runs ${seconds.map((s) => s.toFixed(2)).join(', ')} s)`;
  for (const clients of [1, 4]) {
    const grpcSeconds: number[] = [];
    const httpSeconds: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const grpcFirst = round % 2 === 0;
      const first = await run(grpcFirst ? grpcSend : httpSend, clients);
      const second = await run(grpcFirst ? httpSend : grpcSend, clients);
      if (first.found !== second.found) throw new Error(`the protocols found different faces: ${first.found} and ${second.found}`);
      (grpcFirst ? grpcSeconds : httpSeconds).push(first.seconds);
      (grpcFirst ? httpSeconds : grpcSeconds).push(second.seconds);
    }
    const ratio = median(httpSeconds) / median(grpcSeconds);
    lines.push(
      `### ${clients} client${clients > 1 ? 's' : ''} at once`,
      row('gRPC face_detect_and_embed', grpcSeconds),
      row(`POST /v1/faces?${QUERY}`, httpSeconds),
      `gRPC / HTTP images/s: ${ratio.toFixed(3)}`,
    );
  }
  client.close();
  await app.close();
  return [`## gRPC face_detect_and_embed against /v1/faces (${model} fp32, ${count} identity photos, ${megabytes.toFixed(1)} MB, real sockets)`, ...lines];
}
