import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Box, EmbeddedFace, Landmarks, QualifiedFace, StageTimings } from '../src/index.js';
import { readKnobs } from '../src/pipeline/options.js';


/**
 * Multipart bodies are streamed and checked by request.readUpload(); their zod schema is there
 * for the OpenAPI document only. Query strings are read strictly by readKnobs: an unknown name, an
 * empty or repeated value, or text that is not of the knob's kind is a 400 naming the parameter.
 */
export const multipartValidator: FastifySchemaCompiler<unknown> = (route) => {
  if (route.httpPart === 'body') return () => ({ value: undefined });
  if (route.httpPart === 'querystring') {
    const schema = route.schema as z.ZodObject;
    return (query) => {
      try {
        const options = { code: 'INVALID_PARAMETER', what: 'query parameter', strict: true } as const;
        return { value: readKnobs(schema, (query ?? {}) as Record<string, unknown>, options) };
      } catch (err) {
        return { error: err as Error };
      }
    };
  }
  return (validatorCompiler as FastifySchemaCompiler<unknown>)(route);
};

export function serverTiming(timings: StageTimings): string {
  return Object.entries(timings)
    .map(([stage, ms]) => `${stage};dur=${ms.toFixed(1)}`)
    .join(', ');
}

/** Send the stage times as Server-Timing, and keep them with the face count for the log line and the metrics. */
export function reportResult(request: FastifyRequest, reply: FastifyReply, result: { faces: readonly unknown[]; timings: StageTimings }): void {
  reply.header('server-timing', serverTiming(result.timings));
  request.pipelineStats = { faces: result.faces.length, timings: { ...result.timings } };
}

/**
 * Float32 values with 9 significant digits, which always read back as the same float32, instead of
 * the 17-digit doubles JSON would print: about 40% less JSON, no precision lost.
 */
export const toNumbers = (vector: Float32Array): number[] => Array.from(vector, (x) => Number(x.toPrecision(9)));

const round = (x: number, decimals: number) => {
  const scale = 10 ** decimals;
  return Math.round(x * scale) / scale;
};

/** Pixel coordinates with 2 decimals: a hundredth of a pixel is finer than any detector's error. */
export const pixelBox = (box: Box): Box => box.map((x) => round(x, 2)) as Box;
export function pixelLandmarks(landmarks: Landmarks): Landmarks;
export function pixelLandmarks(landmarks: Landmarks | null): Landmarks | null;
export function pixelLandmarks(landmarks: Landmarks | null): Landmarks | null {
  return landmarks && (landmarks.map(([x, y]) => [round(x, 2), round(y, 2)]) as Landmarks);
}
/** Scores with 4 decimals. */
export const roundedScore = (score: number): number => round(score, 4);

/** A detected face as JSON: rounded box, score and landmarks. */
export const detectedFaceJson = (face: QualifiedFace) => ({
  box: pixelBox(face.box),
  score: roundedScore(face.score),
  landmarks: pixelLandmarks(face.landmarks),
  quality: face.quality,
});

/** A face with its embedding as JSON; the embedding keeps its exact float32 values. */
export const embeddedFaceJson = (face: EmbeddedFace) => ({ ...detectedFaceJson(face), embedding: toNumbers(face.embedding) });
