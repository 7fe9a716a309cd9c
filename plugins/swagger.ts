import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DownloadUrl, EmptyFieldsLeftOut, FormFieldErrors, JsonBodyFromExample } from './swagger/ui-plugins.js';
import { transform as documentOperation, transformObject } from './swagger/transform.js';
import { SERVICE } from '../src/version.js';
import { isPublicRoute } from './auth.js';

/** Probes and docs need no key: they say so with an empty security list. */
const transform: typeof documentOperation = (input) => {
  const output = documentOperation(input);
  return isPublicRoute(input.url) ? { ...output, schema: { ...output.schema, security: [] } } : output;
};

type OpenApiDoc = { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { example?: unknown } }> } }>> };

/** Two example embeddings of `dim` values, unit length and close to each other (a same-person pair). */
export function exampleEmbeddings(dim: number): { embedding1: number[]; embedding2: number[] } {
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => Math.round((x / n) * 1e4) / 1e4);
  };
  const base = Array.from({ length: dim }, (_, i) => Math.sin(i + 1));
  return { embedding1: unit(base), embedding2: unit(base.map((x, i) => x + 0.3 * Math.cos(3 * i))) };
}

function withVerifyExample(spec: OpenApiDoc, dim: number): OpenApiDoc {
  const schema = spec.paths?.['/v1/verify']?.post?.requestBody?.content?.['application/json']?.schema;
  if (schema) schema.example = exampleEmbeddings(dim);
  return spec;
}

export default fp(async function swaggerPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'lumen-face',
        version: SERVICE.version,
        description:
          'Face detection (SCRFD), 5-point alignment and embedding (ArcFace family). ' +
          'Coordinates are pixels of the EXIF-upright image. Embeddings are L2-normalised: compare two with a dot product.',
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [
        { url: '/', description: 'The server this document came from' },
        { url: 'http://127.0.0.1:8000', description: 'A local `npm start`' },
      ],
      tags: [
        { name: 'faces', description: 'Detect, align and embed' },
        { name: 'service', description: 'Health and information' },
        { name: 'immich', description: "immich's machine-learning protocol, so immich can use lumen-face as an ML URL (docs/immich.md)" },
      ],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: 'One of the keys in LUMEN_FACE_API_KEYS or LUMEN_FACE_API_KEYS_FILE. Needed only when the server sets keys.',
          },
          bearer: { type: 'http', scheme: 'bearer', description: 'The same key, sent as `Authorization: Bearer KEY`.' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    transform,
    transformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { plugins: [DownloadUrl, FormFieldErrors, EmptyFieldsLeftOut, JsonBodyFromExample] },
    // Swagger UI's copy of the document: its verify example has the loaded model's dimension, so
    // "Try it out" sends embeddings the model accepts. /openapi.json stays the committed document.
    transformSpecification: (spec) => {
      const state = app.faceBackend?.state;
      return state?.status === 'ready' ? withVerifyExample(spec as OpenApiDoc, state.backend.info().model.dim) : spec;
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
