/** Axis-aligned box in pixels of the EXIF-upright image: [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];
export type Point = [number, number];
/** Left eye, right eye, nose, left mouth corner, right mouth corner. */
export type Landmarks = [Point, Point, Point, Point, Point];

/** 8-bit RGB pixels, interleaved (HWC), 3 channels, no padding between rows. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A model output as a flat float array plus its shape. */
export interface Tensor {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * How a caller controls one call that runs photos. When `signal` aborts, photos not yet started are
 * dropped, the photo in progress stops at its next model run, and the call rejects with the signal's
 * reason when that is a LumenError, else with ABORTED.
 */
export interface RunControl {
  signal?: AbortSignal;
}

/** The subset of a pino logger the library uses, so it can run with or without Fastify. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
