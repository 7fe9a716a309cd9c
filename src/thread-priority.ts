import { readdirSync } from 'node:fs';
import os from 'node:os';

/**
 * Linux only: lower the priority of every thread of this process except the main one (libuv's pool,
 * where sharp decodes; libvips' own threads; V8's helpers; the inference workers), so the event loop
 * gets a core as soon as it has I/O to do. Threads inherit their creator's nice value, so the threads
 * libvips starts later from a pool thread follow. Threads already lowered are left alone.
 */
export function lowerBackgroundThreads(by: number): number {
  if (by <= 0 || process.platform !== 'linux') return 0;
  const main = os.getPriority();
  let lowered = 0;
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  for (const tid of tids.map(Number)) {
    if (tid === process.pid) continue;
    try {
      if (os.getPriority(tid) >= main + by) continue;
      os.setPriority(tid, Math.min(19, main + by));
      lowered++;
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return lowered;
}
