import type { FastifySchemaCompiler } from 'fastify';
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

export const toNumbers = (vector: Float32Array): number[] => Array.from(vector);
