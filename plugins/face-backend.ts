import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createBackend, type FaceBackend } from '../src/backend.js';
import type { Config } from '../src/config.js';
import { LumenError } from '../src/errors.js';

export type BackendState = { status: 'loading' } | { status: 'ready'; backend: FaceBackend } | { status: 'failed'; error: Error };

export interface FaceBackendHandle {
  readonly state: BackendState;
  /** Resolves when the models are loaded; rejects when loading failed. */
  readonly loaded: Promise<FaceBackend>;
  /** The backend, or a 503 when it is not ready. */
  get(): FaceBackend;
}

declare module 'fastify' {
  interface FastifyInstance {
    faceBackend: FaceBackendHandle;
  }
}

export interface FaceBackendPluginOptions {
  config: Config;
  /** A backend created elsewhere (tests share one); it is not closed with the app. */
  backend?: FaceBackend;
  /** Whoever awaits `loaded` reports a failure to load (server/start.ts does, once); the log stays quiet about it. */
  loadFailureReportedElsewhere?: boolean;
}

/**
 * Loads the model pack in the background so /healthz and /readyz answer while it loads,
 * and closes it with the app.
 */
export default fp<FaceBackendPluginOptions>(async function faceBackendPlugin(app: FastifyInstance, opts) {
  let state: BackendState = { status: 'loading' };
  const loaded = opts.backend ? Promise.resolve(opts.backend) : createBackend({ config: opts.config, log: app.log.child({ component: 'backend' }) });
  loaded.then(
    (backend) => {
      state = { status: 'ready', backend };
    },
    (error: Error) => {
      state = { status: 'failed', error };
      if (!opts.loadFailureReportedElsewhere) app.log.error({ err: error }, 'the model pack could not be loaded');
    },
  );

  app.decorate('faceBackend', {
    get state() {
      return state;
    },
    loaded,
    get() {
      if (state.status === 'ready') return state.backend;
      if (state.status === 'loading') throw new LumenError('NOT_READY', 'the models are still loading; retry shortly (see /readyz)');
      throw new LumenError('NOT_READY', `the models failed to load: ${state.error.message}`);
    },
  });

  app.addHook('onClose', async () => {
    if (opts.backend) return;
    const backend = await loaded.catch(() => undefined);
    await backend?.close();
  });
});
