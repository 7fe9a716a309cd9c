import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.js';
import type { FaceBackend } from '../../src/backend.js';
import { loadConfig } from '../../src/config.js';
import { testEnv } from '../../dev/fixtures.js';

export { testEnv };

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** An app whose backend is loaded from `env` (or the given shared backend); closed at teardown. */
export async function testApp(t: Teardown, options: { env?: Record<string, string>; backend?: FaceBackend } = {}) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'lumen-face-app-cache-'));
  const config = loadConfig(testEnv({ LUMEN_FACE_CACHE_DIR: cacheDir, ...options.env }));
  const app = await buildApp({ config, backend: options.backend, logger: false });
  await app.ready();
  t.teardown(async () => {
    await app.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });
  return app;
}

export interface Part {
  name: string;
  value: Uint8Array | string;
  filename?: string;
  type?: string;
}

/** Encode a multipart/form-data body the way fetch (undici) does, for app.inject. */
export async function multipart(parts: Part[]): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const part of parts) {
    if (typeof part.value === 'string' && part.filename === undefined) form.append(part.name, part.value);
    else form.append(part.name, new Blob([part.value as BlobPart], { type: part.type ?? 'application/octet-stream' }), part.filename ?? 'upload.bin');
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    headers: { 'content-type': request.headers.get('content-type') as string },
  };
}

export const imagePart = (bytes: Uint8Array, filename = 'photo.jpg', type = 'image/jpeg'): Part => ({ name: 'image', value: bytes, filename, type });

/** POST a multipart body of `parts` to `url` through app.inject. */
export async function postParts(app: { inject: FastifyInstance['inject'] }, url: string, parts: Part[]) {
  const { payload, headers } = await multipart(parts);
  return app.inject({ method: 'POST', url, payload, headers });
}
