import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where things are, with no side effect on import: nothing is read or checked here, so a static test
 * (layering, deploy files, README) runs on a checkout without the shared models and photos.
 * test/helpers/fixtures.ts is the helper that insists they exist.
 */

/** Repository root: this file runs compiled as dist/dev/paths.js. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `<repo>/../shared/<name>`: the shared models and photos sit next to the checkout. */
export const sharedDir = (name: string): string => resolve(REPO_ROOT, '..', 'shared', name);
