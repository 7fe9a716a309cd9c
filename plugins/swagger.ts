import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DownloadUrl, EmptyFieldsLeftOut, FormFieldErrors } from '../openapi/swagger-ui.js';
import { transform, transformObject } from '../openapi/transform.js';
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
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [
        { url: '/', description: 'The server this document came from' },
        { url: 'http://127.0.0.1:8000', description: 'A local `npm start`' },
      ],
      // No authentication yet: every operation is open. An auth plugin declares its schemes here.
      security: [],
      tags: [
        { name: 'faces', description: 'Detect, align and embed' },
        { name: 'service', description: 'Health and information' },
      ],
    },
    transform,
    transformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { plugins: [DownloadUrl, FormFieldErrors, EmptyFieldsLeftOut] } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
