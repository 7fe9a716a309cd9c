import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { runExample } from './examples.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The pages whose examples are generated. */
export const DOC_PAGES = ['docs/api.md', 'docs/input.md', 'docs/immich.md'];
/** The shared packs, where the docs' commands expect them (a sibling of the repository). */
const MODELS = '../shared/models';

/** A real server on the shared scrfd_2.5g_mbf fp32 pack, on a free port, and a runner for documented commands. */
export async function docsServer(): Promise<{ origin: string; run(command: string): Promise<string>; close(): Promise<void> }> {
  const cache = mkdtempSync(join(tmpdir(), 'lumen-face-docs-'));
  const modelsDir = resolve(REPO_ROOT, MODELS);
  const config = loadConfig({
    LUMEN_FACE_LOCAL_DIR: modelsDir,
    LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf',
    LUMEN_FACE_PRECISION: 'fp32',
    LUMEN_FACE_OFFLINE: '1',
    LUMEN_FACE_CACHE_DIR: cache,
    LUMEN_FACE_HOST: '127.0.0.1',
    LUMEN_FACE_PORT: '0',
    LUMEN_FACE_WORKERS: '1',
  });
  const app = await buildApp({ config, logger: false });
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  // The pack loads in the background, as in production; the examples need it loaded.
  while (app.faceBackend.state.status === 'loading') await new Promise((r) => setTimeout(r, 50));
  if (app.faceBackend.state.status === 'failed') throw app.faceBackend.state.error;
  // Paths in the output are shown as the docs' commands name them, whatever the checkout's location.
  const replacements: [string, string][] = [
    [modelsDir, MODELS],
    [cache, '~/.cache/lumen_face'],
  ];
  return {
    origin,
    run: (command) => runExample(command, origin, REPO_ROOT, replacements),
    close: async () => {
      await app.close();
      rmSync(cache, { recursive: true, force: true });
    },
  };
}
