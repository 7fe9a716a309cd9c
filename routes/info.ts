import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BackendInfo } from '../src/backend.js';
import { PACK_LAYOUTS, type PackFileInfo, RUNTIMES } from '../src/index.js';
import { count, errorResponses, modelSchema } from './route-schemas.js';

const packFile = z
  .object({
    role: z.enum(['detection', 'recognition']),
    path: z.string().meta({ example: '/models/scrfd_2.5g_mbf/onnxrt/fp32/detection.onnx' }),
    source: z.enum(['local', 'cache', 'remote']).meta({ description: 'Where the file was found: local directory, cache, or downloaded at start-up.' }),
    url: z.string().optional().meta({ description: 'Where it was downloaded from (remote only).' }),
    size: count('Bytes.', 3290207),
    sha256: z.string().meta({ example: 'bc24bb349491481c3ca793cf89306723162c280cb284c5a5e49df3760bf5c2ce' }),
  })
  .meta({ id: 'PackFile', description: 'One model file of the pack.' }) satisfies z.ZodType<PackFileInfo>;

const inputSize = (width: number, height: number) => z.object({ width: count('Pixels.', width), height: count('Pixels.', height) });

const backendInfo = z.object({
  service: z.object({ name: z.string().meta({ example: 'lumen-face' }), version: z.string().meta({ example: '0.1.0' }) }),
  runtime: z.enum(RUNTIMES),
  device: z.string().meta({ example: 'cpu' }),
  providers: z.array(z.string()).meta({ description: 'Execution providers actually in use.', example: ['cpu'] }),
  model: modelSchema,
  pack: z.object({
    layout: z.enum(PACK_LAYOUTS).meta({ description: 'The pack layout used (LUMEN_FACE_PACK_LAYOUT, or what auto recognised).', example: 'lumen' }),
    // A lumen pack has nothing to say about its files.
    notes: z
      .array(z.string())
      .meta({ description: 'What the layout says about the files: the SoC folder of immich RKNN files, the role of each insightface graph.', example: [] }),
  }),
  files: z.object({ detection: packFile, recognition: packFile }),
  inputs: z.object({
    detection: inputSize(640, 640),
    recognition: inputSize(112, 112).extend({ batch: count('Images per run; null when the model takes any batch size.', 1).nullable() }),
  }),
  limits: z.object({
    maxUploadBytes: count('LUMEN_FACE_MAX_UPLOAD_BYTES: the largest image upload, per part.', 33554432),
    maxJsonBodyBytes: count('The largest JSON body (embeddings, URLs).', 1048576),
    maxPixels: count('LUMEN_FACE_MAX_PIXELS', 100000000),
    maxBoxes: count('LUMEN_FACE_MAX_BOXES', 256),
    maxBatchSize: count('LUMEN_FACE_MAX_BATCH_SIZE', 8),
    maxFaces: count('LUMEN_FACE_MAX_FACES', 256),
    maxImages: count('LUMEN_FACE_MAX_IMAGES: images per /v1/batch request.', 32),
    maxInflight: count('LUMEN_FACE_MAX_INFLIGHT: image requests taken at once; more get 503 with Retry-After.', 32),
  }),
  verify: z.object({
    threshold: z.number().nullable().meta({
      description:
        "Cosine similarity at or above which /v1/verify says same_person (LUMEN_FACE_MATCH_THRESHOLD or the pack's measured value); null when the pack has none.",
      example: 0.397,
    }),
  }),
  supportsImageBatch: z.boolean(),
  versions: z.object({
    node: z.string().meta({ example: '20.20.2' }),
    onnxruntime: z.string().nullable().meta({ example: '1.30.0' }),
    sharp: z.string().nullable().meta({ example: '0.35.5' }),
  }),
  engine: z.record(z.string(), z.unknown()).meta({ description: 'Runtime details: threads and workers, or RKNN SDK/driver versions, core mask and contexts.' }),
}) satisfies z.ZodType<BackendInfo>;

/** Beside what the backend reports, what the server speaks besides HTTP. */
const infoResponse = backendInfo
  .extend({
    grpc: z.object({
      enabled: z.boolean().meta({ description: "Whether Lumen's gRPC protocol is served (LUMEN_FACE_GRPC_PORT is set); see docs/lumen.md." }),
      port: z.number().int().nullable().meta({ description: 'The gRPC port; null when gRPC is off.', example: 50051 }),
    }),
  })
  .meta({ id: 'Info', description: 'What is running and how it is configured.' });

const infoRoute: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1/info',
    {
      schema: {
        tags: ['service'],
        summary: 'Service, runtime, model pack, inputs, limits and versions',
        // Takes no parameters; an unknown one is a 400, as on the image routes.
        querystring: z.strictObject({}),
        response: { 200: infoResponse, 400: errorResponses[400], 401: errorResponses[401], 421: errorResponses[421], 503: errorResponses[503] },
      },
    },
    async () => ({ ...app.faceBackend.get().info(), grpc: { enabled: app.grpcPort !== null, port: app.grpcPort } }),
  );
};

export default infoRoute;
