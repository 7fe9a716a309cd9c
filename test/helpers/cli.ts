import { spawn } from 'node:child_process';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const MAIN = new URL('../../cli/main.js', import.meta.url).pathname;
export const SERVER = new URL('../../server.js', import.meta.url).pathname;

/** Runs a script with only the given variables (plus PATH and HOME), stdin closed, and collects its output. */
export function runNode(script: string, args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export const lumenFace = (args: string[], env: Record<string, string>) => runNode(MAIN, args, env);
