import type { ImageInput } from './image/source.js';

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
 * Encoded image bytes the caller gives up: the service may move their buffer to a photo worker
 * without a copy, which detaches every view of it (the caller must not read them afterwards). Worth
 * it for large uploads, which the HTTP body reader hands over: for a 100 MP upload that saves a copy
 * of 85 MB. Bytes that share their buffer with other data are still copied.
 */
export interface HandedOverBytes {
  bytes: Uint8Array;
  handOver: true;
}

/**
 * A photo to run: encoded bytes or raw RGB pixels, which are copied and so stay the caller's, or
 * bytes handed over.
 */
export type PhotoInput = ImageInput | HandedOverBytes;

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
