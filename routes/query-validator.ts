import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { readKnobs } from '../src/index.js';

/**
 * Image-route bodies (multipart or JSON) are read and checked by request.readParts(); their zod
 * schema is there for the OpenAPI document only. Query strings are read strictly by readKnobs: an
 * unknown name, an empty or repeated value, or text that is not of the knob's kind is a 400 naming
 * the parameter.
 */
export const imageRouteValidator: FastifySchemaCompiler<unknown> = (route) => {
  if (route.httpPart === 'body') return (body) => ({ value: body });
  if (route.httpPart === 'querystring') {
    const schema = route.schema as z.ZodObject;
    return (query) => {
      try {
        return { value: readKnobs(schema, (query ?? {}) as Record<string, unknown>, QUERY_KNOBS) };
      } catch (err) {
        return { error: err as Error };
      }
    };
  }
  return (validatorCompiler as FastifySchemaCompiler<unknown>)(route);
};

export const QUERY_KNOBS = { code: 'INVALID_PARAMETER', what: 'query parameter', strict: true } as const;
