import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from './route-schemas.js';

const packFile = z.object({
  role: z.enum(['detection', 'recognition']),
  path: z.string(),
  source: z.enum(['local', 'cache', 'remote']).meta({ description: 'Where the file was found: local directory, cache, or downloaded at start-up.' }),
  url: z.string().optional(),
  size: z.number().int(),
  sha256: z.string(),
});

const infoResponse = z.object({
  service: z.object({ name: z.string(), version: z.string() }),
  runtime: z.string(),
  device: z.string(),
  providers: z.array(z.string()).meta({ description: 'Execution providers actually in use.' }),
  model: z.object({ name: z.string(), runtime: z.string(), precision: z.string(), dim: z.number().int() }),
  pack: z.object({
    layout: z.enum(['lumen', 'immich', 'insightface']).meta({ description: 'The pack layout used (LUMEN_FACE_PACK_LAYOUT, or what auto recognised).' }),
    notes: z.array(z.string()).meta({ description: 'What the layout says about the files: the SoC folder of immich RKNN files, the role of each insightface graph.' }),
  }),
  files: z.object({ detection: packFile, recognition: packFile }),
  inputs: z.object({
    detection: z.object({ width: z.number().int(), height: z.number().int() }),
    recognition: z.object({ width: z.number().int(), height: z.number().int(), batch: z.number().int().nullable().meta({ description: 'Images per run; null when the model takes any batch size.' }) }),
  }),
  limits: z.object({ maxUploadBytes: z.number().int(), maxPixels: z.number().int(), maxBoxes: z.number().int(), maxBatchSize: z.number().int(), maxFaces: z.number().int() }),
  supportsImageBatch: z.boolean(),
  versions: z.object({ node: z.string(), onnxruntime: z.string().nullable(), sharp: z.string().nullable() }),
  engine: z.record(z.string(), z.unknown()).meta({ description: 'Runtime details: threads and workers, or RKNN SDK/driver versions, core mask and contexts.' }),
}).describe('What is running and how it is configured.');

const infoRoute: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/info', {
    schema: {
      tags: ['service'],
      summary: 'Service, runtime, model pack, inputs, limits and versions',
      response: { 200: infoResponse, 401: errorResponses[401], 421: errorResponses[421], 503: errorResponses[503] },
    },
  }, async () => app.faceBackend.get().info());
};

export default infoRoute;
