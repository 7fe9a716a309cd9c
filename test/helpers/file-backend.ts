import t from 'tap';
import type { FaceBackend } from '../../src/index.js';
import { backendFor, TEST_ENGINE } from './fixtures.js';

/**
 * One backend over a shared pack for a whole test file: created before its first test and closed
 * after its last. `use` receives it, so the file keeps a plain variable to call.
 */
export function backendForFile(model: string, precision: string, use: (backend: FaceBackend) => void): void {
  let backend: FaceBackend | undefined;
  t.before(async () => {
    backend = await backendFor(model, precision, TEST_ENGINE);
    use(backend);
  });
  t.teardown(() => backend?.close());
}
