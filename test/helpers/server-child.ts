import { type ChildProcess, spawn } from 'node:child_process';
import { SERVER } from './cli.js';
import { MODELS_DIR } from './fixtures.js';

/** The real server in a child process, on a free port, with the small shared pack. */

export interface ServerChild {
  child: ChildProcess;
  address: string;
  port: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export const PACK_ENV: Record<string, string> = {
  LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
  LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
  LUMEN_FACE_PRECISION: 'fp32',
  LUMEN_FACE_OFFLINE: '1',
  LUMEN_FACE_WORKERS: '1',
  LUMEN_FACE_INTRA_OP_THREADS: '1',
  LUMEN_FACE_PORT: '0',
};

export async function startChild(env: Record<string, string> = {}, opts: { waitReady?: boolean } = {}): Promise<ServerChild> {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...PACK_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitReady = opts.waitReady ?? true;
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match && (!waitReady || /"msg":"ready"/.test(out))) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 25);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`the server exited before it was ready:\n${out}`));
    });
  });
  return {
    child,
    address,
    port: Number(new URL(address).port),
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
