import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../../app.js';
import { loadConfig, VARIABLES } from '../../src/config.js';
import { REPO_ROOT } from './paths.js';

export { REPO_ROOT };

export const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
export const exists = (path: string) => existsSync(join(REPO_ROOT, path));

/** Every variable name the config table reads. */
export const CONFIG_NAMES = new Set(Object.values(VARIABLES).flatMap((v) => v.names as readonly string[]));

/** Variables the deploy files may set that are not ours: Node's, libvips' and ONNX Runtime's installer's. */
export const FOREIGN_NAMES = new Set(['NODE_ENV', 'VIPS_CONCURRENCY', 'UV_THREADPOOL_SIZE', 'ONNXRUNTIME_NODE_INSTALL']);

/** The app's routes, without loading a model. */
export async function routeChecker(): Promise<{ has(method: string, url: string): boolean; close(): Promise<void> }> {
  const app = await buildApp({ config: loadConfig({ LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_LOCAL_DIR: '/nonexistent' }), logger: false });
  await app.ready();
  return {
    has: (method, url) => app.hasRoute({ method: method as 'GET', url }),
    close: () => app.close(),
  };
}

/** tsconfig's include entries: the roots the build compiles into dist/. */
export function buildRoots(): string[] {
  const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[]; compilerOptions: { outDir: string } };
  if (tsconfig.compilerOptions.outDir !== 'dist') throw new Error('expected outDir "dist"');
  return tsconfig.include;
}

/** Whether `dist/<x>.js` is produced by the build: its `<x>.ts` exists under one of the roots. */
export function producedByBuild(distFile: string): boolean {
  const match = /^dist\/(.+)\.js$/.exec(distFile);
  if (!match) return false;
  const source = `${match[1]}.ts`;
  return exists(source) && buildRoots().some((root) => source === root || source.startsWith(`${root}/`));
}
