import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { StageTimings } from '../src/pipeline/timings.js';

/**
 * Multipart bodies are streamed and checked by request.readUpload(); their zod schema is there
 * for the OpenAPI document only. Query strings are validated as usual.
 */
export const multipartValidator: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? () => ({ value: undefined }) : (validatorCompiler as FastifySchemaCompiler<unknown>)(route);

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
