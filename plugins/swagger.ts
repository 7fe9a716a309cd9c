import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { SERVICE } from '../src/version.js';

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
      },
      tags: [
        { name: 'faces', description: 'Detect, align and embed' },
        { name: 'service', description: 'Health and information' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
