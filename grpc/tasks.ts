import type { Box, DetectOptions, FaceBackend, Landmarks, PipelineResult, QualifiedFace, StageTimings } from '../src/index.js';
import { pixelBox, roundedScore, toNumbers } from '../routes/json-shapes.js';
import { type DetectionMeta, detectOptions, readDetectionMeta, readLandmarks } from './meta.js';

export const FACE_SCHEMA = 'face_v1';
export const EMBEDDING_SCHEMA = 'embedding_v1';
export const FACE_MIME = `application/json;schema=${FACE_SCHEMA}`;
export const EMBEDDING_MIME = `application/json;schema=${EMBEDDING_SCHEMA}`;
/** What Lumen's node declares; the decoder also reads WebP, AVIF, TIFF and more, whatever the mime says. */
export const INPUT_MIMES = ['image/jpeg', 'image/png', 'image/webp'];

export interface TaskAnswer {
  result: Buffer;
  mime: string;
  schema: string;
  /** face_count or dim, as text. */
  meta: Record<string, string>;
  /** What the pipeline did, for the metrics. */
  outcome: { faces: readonly unknown[]; timings: StageTimings };
}

export interface TaskContext {
  backend: FaceBackend;
  payload: Buffer;
  meta: Record<string, string>;
  signal?: AbortSignal;
}

export interface Task {
  name: string;
  outputMime: string;
  run(context: TaskContext): Promise<TaskAnswer>;
}

const longerSide = ([x1, y1, x2, y2]: Box) => Math.max(x2 - x1, y2 - y1);
const flat = (landmarks: Landmarks) => landmarks.flatMap(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);

/**
 * The faces within face_size_max, at most max_faces of them. The backend keeps the largest faces, so
 * the ones too large come first and would push wanted ones past max_faces: when some are dropped, ask
 * again for as many more. Each pass drops at least one face, and the backend's own ceiling
 * (LUMEN_FACE_MAX_FACES) ends the loop; with no face too large (the usual case) there is one pass.
 */
async function facesWithin<F extends QualifiedFace>(meta: DetectionMeta, run: (options: DetectOptions) => Promise<PipelineResult<F>>) {
  let limit = meta.maxFaces;
  for (;;) {
    const answer = await run(detectOptions(meta, limit));
    const kept = answer.faces.filter((f) => longerSide(f.box) <= meta.faceSizeMax);
    const dropped = answer.faces.length - kept.length;
    const more = limit !== undefined && dropped > 0 && answer.faces.length === limit;
    if (!more) return { answer, faces: meta.maxFaces === undefined ? kept : kept.slice(0, meta.maxFaces) };
    limit = limit! + dropped;
  }
}

const faceJson = (face: QualifiedFace) => ({ bbox: pixelBox(face.box), confidence: roundedScore(face.score), landmarks: flat(face.landmarks) });

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

const modelId = (backend: FaceBackend) => backend.info().model.name;

/**
 * A task that answers face_v1: the faces within the meta's bounds, each shown by `show`. The two face
 * tasks differ only in the backend call and whether a face carries its embedding.
 */
function faceTask<F extends QualifiedFace>(
  name: string,
  find: (context: TaskContext, options: DetectOptions) => Promise<PipelineResult<F>>,
  show: (face: F) => object,
): Task {
  return {
    name,
    outputMime: FACE_MIME,
    async run(context) {
      const detection = readDetectionMeta(context.meta);
      const { answer, faces } = await facesWithin(detection, (options) => find(context, options));
      const body = { faces: faces.map(show), count: faces.length, model_id: modelId(context.backend) };
      return {
        result: json(body),
        mime: FACE_MIME,
        schema: FACE_SCHEMA,
        meta: { face_count: String(faces.length) },
        outcome: { faces, timings: answer.timings },
      };
    },
  };
}

export const faceDetectAndEmbed = faceTask(
  'face_detect_and_embed',
  ({ backend, payload, signal }, options) => backend.faces(payload, options, { signal }),
  (f) => ({ ...faceJson(f), embedding: toNumbers(f.embedding) }),
);

export const faceDetect = faceTask('face_detect', ({ backend, payload, signal }, options) => backend.detect(payload, options, { signal }), faceJson);

/** Larger than any image the decoder accepts: the backend clamps it to the whole image. */
const WHOLE_IMAGE: Box = [0, 0, 2 ** 31, 2 ** 31];

export const faceEmbed: Task = {
  name: 'face_embed',
  outputMime: EMBEDDING_MIME,
  async run({ backend, payload, meta, signal }) {
    const landmarks = readLandmarks(meta);
    // As Lumen's node: aligned with the landmarks sent, else the whole image resized as it is.
    const answer = landmarks
      ? await backend.embedDetailed(payload, { boxes: [{ box: WHOLE_IMAGE, landmarks }], align: true }, { signal })
      : await backend.embedDetailed(payload, { align: false }, { signal });
    const vector = toNumbers(answer.faces[0].embedding);
    const body = { vector, dim: vector.length, model_id: modelId(backend) };
    return {
      result: json(body),
      mime: EMBEDDING_MIME,
      schema: EMBEDDING_SCHEMA,
      meta: { dim: String(vector.length) },
      outcome: { faces: answer.faces, timings: answer.timings },
    };
  },
};

export const TASKS: readonly Task[] = [faceDetectAndEmbed, faceDetect, faceEmbed];
