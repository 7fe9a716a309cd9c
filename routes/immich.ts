import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { LumenError, type ErrorCode } from '../src/errors.js';
import type { EmbeddedFace } from '../src/index.js';
import { FORWARDED_HEADER, type PredictForm, type UpstreamAnswer } from '../plugins/immich-upstream.js';
import type { PartsSpec } from '../plugins/body.js';
import { toNumbers } from './json-shapes.js';
import { imageRouteValidator } from './query-validator.js';
import { reportOutcomes } from './report.js';
import { errorResponses, errorSchema } from './route-schemas.js';

/**
 * immich's machine-learning protocol (immich_ml/main.py; the server side is
 * server/src/repositories/machine-learning.repository.ts), so immich can list lumen-face as an ML URL.
 * Faces are answered from the loaded pack; every other task goes to LUMEN_FACE_IMMICH_UPSTREAM.
 */

export const FACE_TASK = 'facial-recognition';
/** immich ML's own default for `minScore` (FaceDetector in immich_ml/models/facial_recognition/detection.py). */
export const IMMICH_MIN_SCORE = 0.7;
/** immich's model names may carry its Hugging Face organisation. */
const IMMICH_PREFIX = 'immich-app/';
/** The task label of the metrics: immich's tasks by name, anything else folded, so the label stays bounded. */
const KNOWN_TASKS = [FACE_TASK, 'clip', 'ocr'] as const;
export type TaskLabel = (typeof KNOWN_TASKS)[number] | 'other' | 'mixed' | 'invalid';

const entrySchema = z.looseObject({
  modelName: z.string().min(1),
  options: z.record(z.string(), z.unknown()).optional(),
});
const entriesSchema = z.record(z.string(), z.record(z.string(), entrySchema));
export type Entries = z.output<typeof entriesSchema>;

const ENTRIES_EXAMPLE = `{"${FACE_TASK}":{"detection":{"modelName":"buffalo_l","options":{"minScore":0.7}},"recognition":{"modelName":"buffalo_l"}}}`;

/** The `entries` form field: JSON of task -> model type -> {modelName, options}, at least one task. */
export function parseEntries(text: string | undefined): Entries {
  if (text === undefined) throw new LumenError('INVALID_ENTRIES', `the form has no "entries" field; expected JSON such as ${ENTRIES_EXAMPLE}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LumenError('INVALID_ENTRIES', `"entries" is not JSON: received ${JSON.stringify(text.slice(0, 80))}`);
  }
  const parsed = entriesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `"entries" at ${issue.path.join('.')}` : '"entries"';
    throw new LumenError('INVALID_ENTRIES', `${where} is invalid: ${issue.message}; expected JSON such as ${ENTRIES_EXAMPLE}`);
  }
  const tasks = Object.keys(parsed.data);
  if (tasks.length === 0) throw new LumenError('INVALID_ENTRIES', `"entries" names no task; expected JSON such as ${ENTRIES_EXAMPLE}`);
  for (const task of tasks) {
    if (Object.keys(parsed.data[task]).length === 0) throw new LumenError('INVALID_ENTRIES', `"entries" task "${task}" names no model type`);
  }
  return parsed.data;
}

export function taskLabel(entries: Entries | undefined): TaskLabel {
  if (!entries) return 'invalid';
  const tasks = Object.keys(entries);
  if (tasks.length > 1) return 'mixed';
  return (KNOWN_TASKS as readonly string[]).includes(tasks[0]) ? (tasks[0] as TaskLabel) : 'other';
}

const unprefixed = (name: string) => (name.startsWith(IMMICH_PREFIX) ? name.slice(IMMICH_PREFIX.length) : name);

/** The face task's minimum score, after checking both of its models are the loaded pack. */
export function faceRequest(types: Entries[string], loaded: string): { minScore: number } {
  const { detection, recognition } = types;
  if (!detection || !recognition) {
    throw new LumenError(
      'INVALID_ENTRIES',
      `"entries" task "${FACE_TASK}" needs both "detection" and "recognition"; received ${Object.keys(types)
        .map((k) => `"${k}"`)
        .join(', ')}`,
    );
  }
  for (const [type, entry] of Object.entries({ detection, recognition })) {
    if (unprefixed(entry.modelName) !== loaded) {
      throw new LumenError(
        'MODEL_MISMATCH',
        `immich asked for ${type} model "${entry.modelName}", but this service runs "${loaded}"; ` +
          `set immich's facial recognition model to ${loaded}, or start lumen-face with LUMEN_FACE_MODEL_NAME=${unprefixed(entry.modelName)}`,
      );
    }
  }
  const minScore = detection.options?.minScore ?? IMMICH_MIN_SCORE;
  if (typeof minScore !== 'number' || !Number.isFinite(minScore) || minScore < 0 || minScore > 1) {
    throw new LumenError(
      'INVALID_ENTRIES',
      `"entries" at ${FACE_TASK}.detection.options.minScore is invalid: expected a number from 0 to 1, received ${JSON.stringify(minScore)}`,
    );
  }
  return { minScore };
}

/** A face as immich stores it: whole-pixel box (its columns are integers), the embedding as JSON text. */
export const immichFace = (face: EmbeddedFace) => {
  const [x1, y1, x2, y2] = face.box.map(Math.round);
  return { boundingBox: { x1, y1, x2, y2 }, embedding: JSON.stringify(toNumbers(face.embedding)), score: face.score };
};

/** immich's form: `entries` (JSON text), an optional `image` (a Blob without a name), `text` for CLIP, `assetId`. */
const PREDICT_PARTS: PartsSpec = { files: ['image'], maxFiles: 1, fields: ['entries', 'text', 'assetId'], filesOptional: true };

const faceJson = z.object({
  boundingBox: z.object({ x1: z.number(), y1: z.number(), x2: z.number(), y2: z.number() }).describe('Whole pixels of the image as sent.'),
  embedding: z.string().describe('The embedding as a JSON array in a string, which immich stores without parsing.'),
  score: z.number().describe('Detection score, 0 to 1.'),
});
const predictResponse = z
  .looseObject({
    [FACE_TASK]: z.array(faceJson).optional().describe('Present for a face request: every face at or above minScore, [] for none.'),
    imageHeight: z.number().int().optional(),
    imageWidth: z.number().int().optional(),
  })
  .describe("Faces answered here; any other task is the upstream immich ML server's answer, passed on unchanged.");

const predictBody = z.object({
  entries: z.string().describe(`JSON: task -> model type -> {modelName, options}, e.g. ${ENTRIES_EXAMPLE}`),
  image: z.string().meta({ format: 'binary' }).optional().describe('The image: immich sends its preview JPEG as a part with no file name of its own.'),
  text: z.string().optional().describe('Text, for a CLIP text request (forwarded).'),
  assetId: z.string().optional().describe("immich's asset id, sent instead of the image for some models (forwarded)."),
});

const documented = (statusCode: number, description: string, code: ErrorCode, error: string, message: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema, example: { statusCode, code, error, message } } },
});
const predictErrors = {
  ...errorResponses,
  422: documented(
    422,
    'entries that are not JSON tasks, another face model than the loaded pack, or a task with no upstream to forward it to.',
    'MODEL_MISMATCH',
    'Unprocessable Entity',
    'immich asked for detection model "buffalo_l", but this service runs "antelopev2"; ...',
  ),
  502: documented(
    502,
    'The upstream immich ML server could not be reached, failed (5xx), or answered more than LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES.',
    'UPSTREAM_FAILED',
    'Bad Gateway',
    'the immich ML server at http://immich-machine-learning:3003 could not be reached: ECONNREFUSED',
  ),
  504: documented(
    504,
    'The upstream immich ML server did not answer within LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT.',
    'UPSTREAM_TIMEOUT',
    'Gateway Timeout',
    'the immich ML server at http://immich-machine-learning:3003 did not answer within 120 s (LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT)',
  ),
};

const immichRoutes: FastifyPluginAsyncZod = async (app) => {
  const tasks = new WeakMap<FastifyRequest, TaskLabel>();
  const predictions = new Counter({
    name: 'lumen_face_immich_predict_total',
    help: 'immich /predict requests answered, by task (facial-recognition, clip, ocr, other, mixed, invalid) and status.',
    labelNames: ['task', 'status'],
    registers: [app.metrics],
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== '/predict') return;
    predictions.inc({ task: tasks.get(request) ?? 'invalid', status: String(reply.statusCode) });
  });

  app.get(
    '/',
    {
      schema: {
        operationId: 'getImmichRoot',
        tags: ['immich'],
        summary: 'immich ML greeting',
        description: 'What immich ML answers at its root.',
        response: { 200: z.object({ message: z.literal('Immich ML') }).describe('The greeting.'), ...errorResponses },
      },
    },
    async () => ({ message: 'Immich ML' as const }),
  );

  app.get(
    '/ping',
    {
      // immich pings every ML URL every 30 s: logged at debug like the other probes.
      logLevel: 'warn',
      schema: {
        tags: ['immich'],
        summary: 'immich\'s health check: "pong" once the models are loaded',
        description:
          'immich calls it every 30 s with a 2 s timeout and skips an ML URL that does not answer 200. Before the models are loaded it answers 503 NOT_READY, so immich uses its next URL.',
        produces: ['text/plain'],
        response: { 200: z.literal('pong').describe('The models are loaded.'), ...errorResponses },
      },
    },
    async (_request, reply) => {
      app.faceBackend.get();
      reply.type('text/plain; charset=utf-8');
      return 'pong' as const;
    },
  );

  app.post(
    '/predict',
    {
      schema: {
        tags: ['immich'],
        summary: "immich's machine-learning request: faces here, other tasks forwarded",
        description:
          'Multipart with `entries` (JSON), and `image` or `text`. The `facial-recognition` task runs on the loaded pack ' +
          `(minScore defaults to ${IMMICH_MIN_SCORE}, as in immich); its model names must be the pack's, with or without \`immich-app/\`. ` +
          'Other tasks go unchanged to LUMEN_FACE_IMMICH_UPSTREAM and its answer comes back as it is (2xx and 4xx; 5xx becomes 502). ' +
          'Faces mixed with other tasks in one request get 422: immich sends one task per request.',
        consumes: ['multipart/form-data'],
        // No query parameter: an unknown one is refused, as on every image route.
        querystring: z.object({}),
        body: predictBody,
        response: { 200: predictResponse, ...predictErrors },
      },
      validatorCompiler: imageRouteValidator,
    },
    async (request, reply) => {
      // The body is read before a slot is taken, as on every image route: a slow upload holds no slot.
      const { files, fields } = await request.readParts(PREDICT_PARTS);
      const image = files[0]?.bytes;
      return app.withImageSlot(async () => {
        const entries = parseEntries(fields.entries);
        const task = taskLabel(entries);
        tasks.set(request, task);
        request.log = request.log.child({ task });
        const form: PredictForm = { entries: fields.entries as string, image, text: fields.text, assetId: fields.assetId };
        if (!(FACE_TASK in entries)) {
          if (!app.immichUpstream) {
            throw new LumenError(
              'TASK_NOT_SERVED',
              `this service answers only "${FACE_TASK}"; set LUMEN_FACE_IMMICH_UPSTREAM to an immich ML URL to forward ${Object.keys(entries)
                .map((t) => `"${t}"`)
                .join(', ')}`,
            );
          }
          if (request.headers[FORWARDED_HEADER] !== undefined) {
            throw new LumenError(
              'UPSTREAM_FAILED',
              'this request was already forwarded by lumen-face: LUMEN_FACE_IMMICH_UPSTREAM points back at a lumen-face service',
            );
          }
          const gone = new AbortController();
          const onClose = () => {
            if (!reply.raw.writableEnded) gone.abort();
          };
          reply.raw.once('close', onClose);
          let answer: UpstreamAnswer;
          try {
            answer = await app.immichUpstream(form, gone.signal);
          } finally {
            reply.raw.off('close', onClose);
          }
          return reply
            .status(answer.status)
            .type(answer.contentType)
            .send(answer.body as never); // the upstream's bytes, not serialised again
        }
        if (task === 'mixed') {
          throw new LumenError(
            'TASK_NOT_SERVED',
            `send "${FACE_TASK}" alone: a request mixing it with ${Object.keys(entries)
              .filter((t) => t !== FACE_TASK)
              .map((t) => `"${t}"`)
              .join(', ')} is not split (immich sends one task per request)`,
          );
        }
        const backend = app.faceBackend.get();
        const { minScore } = faceRequest(entries[FACE_TASK], backend.info().model.name);
        if (!image)
          throw new LumenError(
            'MISSING_IMAGE',
            `the "${FACE_TASK}" task needs an "image" file part${fields.assetId ? ' (an assetId alone is not enough)' : ''}`,
          );
        const result = await backend.faces(files[0], { min_score: minScore });
        reportOutcomes(request, reply, [result]);
        return {
          [FACE_TASK]: result.faces.map(immichFace),
          imageHeight: result.image.height,
          imageWidth: result.image.width,
        };
      });
    },
  );
};

export default immichRoutes;
