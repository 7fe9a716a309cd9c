// A small client over the types openapi-typescript generates from openapi/openapi.json.
// test/openapi/openapi.client.test.ts generates ./schema.d.ts beside a copy of this file and type-checks
// it with strict TypeScript; every `same<...>()` line fails the test when a field loses its type.
import type { components, operations } from './schema.js';

type Schemas = components['schemas'];
type Json<Op extends keyof operations, Status extends keyof operations[Op]['responses']> = operations[Op]['responses'][Status] extends {
  content: { 'application/json': infer Body };
}
  ? Body
  : never;

/** Compiles only when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <T extends true>(): T | undefined => undefined;

type Point = [number, number];

same<Same<Schemas['Box'], [number, number, number, number]>>();
same<Same<Schemas['Point'], Point>>();
same<Same<Schemas['Landmarks'], [Point, Point, Point, Point, Point]>>();
same<Same<Schemas['Quality'], { yaw: number | null; pitch: number | null; roll: number | null; sharpness: number; size: number }>>();
same<Same<Schemas['Face'], { box: Schemas['Box']; score: number; landmarks: Schemas['Landmarks']; quality: Schemas['Quality'] }>>();
same<
  Same<
    Schemas['EmbeddedFace'],
    { box: Schemas['Box']; score: number; landmarks: Schemas['Landmarks']; quality: Schemas['Quality']; embedding: number[] | string }
  >
>();
// Numbers by default; a base64 string with embedding_format=base64.
same<Same<Schemas['Embedding'], number[] | string>>();
same<Same<Schemas['EmbeddedFace']['landmarks'], [Point, Point, Point, Point, Point]>>();
same<Same<Schemas['EmbeddedBox']['landmarks'], [Point, Point, Point, Point, Point] | null>>();
same<Same<Schemas['Model']['runtime'], 'onnxrt' | 'rknn'>>();
same<Same<Schemas['ImageSize'], { width: number; height: number }>>();
same<Same<Json<'postFaces', 200>, { model: Schemas['Model']; image: Schemas['ImageSize']; faces: Schemas['EmbeddedFace'][] }>>();
same<Same<Json<'postDetect', 200>, { model: Schemas['Model']; image: Schemas['ImageSize']; faces: Schemas['Face'][] }>>();
same<Same<Json<'postEmbed', 200>, { model: Schemas['Model']; image: Schemas['ImageSize']; faces: Schemas['EmbeddedBox'][] }>>();
same<Same<Json<'postFaces', 400>, Schemas['Error']>>();
same<Same<Json<'postFacesBatch', 200>['results'][number], { image: Schemas['ImageSize']; faces: Schemas['EmbeddedFace'][] } | Schemas['BatchError']>>();
same<Same<Json<'postDetectBatch', 200>['results'][number], { image: Schemas['ImageSize']; faces: Schemas['Face'][] } | Schemas['BatchError']>>();
type VerifyBody = NonNullable<operations['postVerify']['requestBody']>['content'];
same<Same<VerifyBody['application/json'], { embedding1: number[]; embedding2: number[] } | { image1: string; image2: string }>>();
same<Same<keyof VerifyBody['multipart/form-data'], 'image1' | 'image2'>>();
same<
  Same<Schemas['VerifyFace'], { box: Schemas['Box']; score: number; landmarks: Schemas['Landmarks']; quality: Schemas['Quality']; image: 'image1' | 'image2' }>
>();
same<Same<Json<'getInfo', 200>['model'], Schemas['Model']>>();

export class LumenFaceError extends Error {
  constructor(readonly body: Schemas['Error']) {
    super(`${body.statusCode} ${body.code}: ${body.message}`);
  }
}

async function post<T>(base: string, path: string, photo: Blob, fields: Record<string, string> = {}): Promise<T> {
  const form = new FormData();
  form.append('image', photo, 'photo.jpg');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(new URL(path, base), { method: 'POST', body: form });
  if (!response.ok) throw new LumenFaceError((await response.json()) as Schemas['Error']);
  return (await response.json()) as T;
}

export const faces = (base: string, photo: Blob) => post<Json<'postFaces', 200>>(base, '/v1/faces', photo);
export const embedBoxes = (base: string, photo: Blob, boxes: Schemas['Box'][]) =>
  post<Json<'postEmbed', 200>>(base, '/v1/embed', photo, { boxes: JSON.stringify(boxes) });

/** Uses what the types promise: a 4-tuple box, five landmarks that are never null, a number vector. */
export function describeFaces(result: Json<'postFaces', 200>): string[] {
  return result.faces.map(({ box: [x1, y1, x2, y2], landmarks: [leftEye, rightEye], embedding }) => {
    const eyeDistance = Math.hypot(rightEye[0] - leftEye[0], rightEye[1] - leftEye[1]);
    return `${x2 - x1}x${y2 - y1} face, eyes ${eyeDistance.toFixed(1)} px apart, ${embedding.length}-d (${result.model.name})`;
  });
}

/** Embeddings as the default JSON numbers (embedding_format=json). */
export function cosine(a: Extract<Schemas['Embedding'], number[]>, b: Extract<Schemas['Embedding'], number[]>): number {
  return a.reduce((sum, x, i) => sum + x * b[i], 0);
}
