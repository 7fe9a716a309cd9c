import type { Logger } from '../types.js';

/** Said loudly: a GPU was asked for and the service runs on the CPU instead, many times slower. */
export function warnRunningOnCpu(log: Logger, device: string, reason: string): void {
  log.error(
    { device, reason },
    `!!! ${device} was requested but its execution provider could not be loaded: RUNNING ON CPU. ` +
      'Install the CUDA build (see README, GPU) or set LUMEN_FACE_DEVICE=cpu.',
  );
}
