import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * The zod schemas become the OpenAPI document through fastify-type-provider-zod; these steps make
 * it generate a tight client: an operationId on every operation, tuples as one item schema with
 * minItems/maxItems, no ±2^53 bounds on integers, per-response examples kept, and only the
 * component schemas the document uses.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `POST /v1/faces/batch` -> `postFacesBatch`: stable, unique per operation, readable in a client. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split(/[/_.-]+/)
    .filter((w) => w !== '' && !/^v\d+$/.test(w) && !w.startsWith(':'))
    .map((w) => w[0].toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join('');
}

/**
 * zod writes a tuple for OpenAPI 3.0 as `items: {anyOf: [one schema per position]}`. When every
 * position has the same schema, one `items` with the tuple's minItems/maxItems says it exactly.
 */
function tidySchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidySchema);
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, child] of Object.entries(value)) out[key] = tidySchema(child);
  const items = out.items;
  if (isObject(items) && Array.isArray(items.anyOf) && Object.keys(items).length === 1) {
    const [first, ...rest] = items.anyOf.map((s) => JSON.stringify(s));
    if (rest.every((s) => s === first)) out.items = items.anyOf[0];
  }
  if (out.type === 'integer') {
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  }
  return out;
}

/**
 * A response whose schema is a named component would be described as "Default Response":
 * describe it with the component's own description instead.
 */
function describeReferencedResponses(source: unknown, target: Json): void {
  if (!isObject(source) || !isObject(target.response)) return;
  const responses = target.response;
  for (const [status, original] of Object.entries(source)) {
    const response = responses[status];
    if (!(original instanceof z.ZodType) || !isObject(response) || typeof response.$ref !== 'string') continue;
    const description = z.globalRegistry.get(original)?.description ?? `HTTP ${status}`;
    responses[status] = { description, content: { 'application/json': { schema: response } } };
  }
}

/** Examples given beside a response schema (`content: {type: {schema, example}}`). */
function keepResponseExamples(source: unknown, target: Json): void {
  if (!isObject(source) || !isObject(target.response)) return;
  const responses = target.response;
  for (const [status, response] of Object.entries(source)) {
    if (!isObject(response) || !isObject(response.content) || !isObject(responses[status])) continue;
    const content = (responses[status] as Json).content;
    if (!isObject(content)) continue;
    for (const [type, media] of Object.entries(response.content)) {
      if (isObject(media) && media.example !== undefined && isObject(content[type])) (content[type] as Json).example = media.example;
    }
  }
}

/**
 * A body with one zod schema per media type (`body: {content: {type: {schema}}}`): the zod transform
 * takes only a single body schema, so each is converted here and handed to @fastify/swagger as content.
 */
function bodyPerMediaType(body: unknown): Json | undefined {
  if (!isObject(body) || !isObject(body.content)) return undefined;
  const content: Json = {};
  for (const [type, media] of Object.entries(body.content)) {
    if (!isObject(media) || !(media.schema instanceof z.ZodType)) return undefined;
    content[type] = { schema: z.toJSONSchema(media.schema, { target: 'openapi-3.0', io: 'input' }) };
  }
  return { content };
}

export const transform: SwaggerTransform = (input) => {
  const ownBody = bodyPerMediaType((input.schema as Json | undefined)?.body);
  const zodInput = ownBody ? { ...input, schema: { ...input.schema, body: undefined } } : input;
  const { schema, url } = jsonSchemaTransform(zodInput as Parameters<typeof jsonSchemaTransform>[0]) as { schema: Json; url: string };
  if (schema.hide) return { schema, url };
  if (ownBody) schema.body = ownBody;
  const methods = ([] as string[]).concat(input.route.method);
  schema.operationId ??= operationIdOf(methods[0], url);
  const responses = (input.schema as Json | undefined)?.response;
  describeReferencedResponses(responses, schema);
  keepResponseExamples(responses, schema);
  return { schema: tidySchema(schema) as Json, url };
};

const REF_PREFIX = '#/components/schemas/';

function refsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(REF_PREFIX)) found.add(child.slice(REF_PREFIX.length));
      else refsIn(child, found);
    }
  }
}

/** The components reachable from the operations (the zod registry yields an input and an output variant of each). */
function usedSchemas(document: Json, schemas: Json): Json {
  const used = new Set<string>();
  refsIn(document.paths, used);
  for (const pending = [...used]; pending.length > 0; ) {
    const next = new Set<string>();
    refsIn(schemas[pending.pop() as string], next);
    for (const name of next) {
      if (!used.has(name)) {
        used.add(name);
        pending.push(name);
      }
    }
  }
  return Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .filter((n) => used.has(n))
      .map((n) => [n, schemas[n]]),
  );
}

export const transformObject: SwaggerTransformObject = (input) => {
  const document = jsonSchemaTransformObject(input) as Json;
  const components = document.components as Json;
  components.schemas = usedSchemas(document, tidySchema(components.schemas ?? {}) as Json);
  return document as ReturnType<SwaggerTransformObject>;
};
