import type { TensorMeta, TensorSession } from '../engines/engine.js';
import type { Point } from '../types.js';
import { imageShape, pixelFeed } from './tensor-layout.js';

/**
 * What the ArcFace family of recognizers expects and gives, for every engine: insightface's
 * arcface_onnx.py and the PaddleX MobileFaceNet config agree on RGB, (x - 127.5) / 127.5, NCHW.
 */

export const ARCFACE_NORM = { mean: 127.5, std: 127.5 } as const;

/** ArcFace 112x112 landmark template (insightface face_align.arcface_dst). */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
] as Point[]);

/** The template scaled to a recognition input of width x height. */
export function arcfaceTemplate(width: number, height: number): Point[] {
  const sx = width / 112;
  const sy = height / 112;
  return ARCFACE_TEMPLATE_112.map(([x, y]): Point => [x * sx, y * sy]);
}

/** An output as a graph declares it; a dimension is null (or a name) where it is dynamic. */
export interface DeclaredOutput {
  name: string;
  dims: readonly (number | string | null)[];
}

/** Embedding sizes of real ArcFace-family models are 128 to 512; this bound keeps logits and feature maps out. */
const MAX_EMBEDDING_DIM = 4096;

/** Values per image of an output, when every dimension after the batch is declared. */
function sizePerImage(output: DeclaredOutput): number | undefined {
  const rest = output.dims.slice(1);
  if (rest.length === 0 || !rest.every((d) => typeof d === 'number' && d > 0)) return undefined;
  return (rest as number[]).reduce((a, b) => a * b, 1);
}

/** One vector per image: [N, D], or [N, D, 1, 1] as some exports write it. */
function isEmbeddingShaped(output: DeclaredOutput): boolean {
  const size = sizePerImage(output);
  if (size === undefined || size < 2 || size > MAX_EMBEDDING_DIM) return false;
  return output.dims.slice(1).filter((d) => d !== 1).length === 1;
}

const describeOutput = (o: DeclaredOutput) => `"${o.name}" [${o.dims.map((d) => (typeof d === 'number' ? d : 'N')).join(', ')}]`;

/**
 * Which output of a recognizer is the embedding, by what the graph declares: the one output that holds
 * one vector per image. A single output is taken as it is; several that fit, or none, are refused.
 */
export function embeddingOutputIndex(outputs: readonly DeclaredOutput[]): number {
  if (outputs.length === 1) return 0;
  const candidates = outputs.flatMap((o, i) => (isEmbeddingShaped(o) ? [i] : []));
  if (candidates.length === 1) return candidates[0];
  const found = outputs.map(describeOutput).join(', ');
  throw new Error(
    candidates.length === 0
      ? `the recognition model has no embedding output: expected one output of shape [N, D], received ${found}`
      : `the recognition model has ${candidates.length} outputs that could be the embedding: expected exactly one output of shape [N, D], received ${found}`,
  );
}

const DEFAULT_SIDE = 112;

/**
 * The ArcFace family over a tensor session of any runtime: aligned crops in, raw embeddings out (the
 * pipeline L2-normalises them). It owns the normalisation, the input size, the choice of output, the
 * padding of a fixed batch and the warm-up.
 */
export class ArcFace {
  private constructor(
    private readonly session: TensorSession,
    private readonly input: TensorMeta,
    private readonly output: number,
    readonly width: number,
    readonly height: number,
    /** Crops per run: what a fixed graph takes (padded when fewer), or any number. */
    readonly batch: number | 'dynamic',
    /** Values per embedding, found by the warm-up run. */
    private dimension = 0,
  ) {}

  /**
   * Checks the graph, picks its embedding output and runs it once. `wanted` (rec_input_w and
   * rec_input_h) sizes a graph with dynamic sides, and can only confirm the sides of a fixed one.
   */
  static async open(session: TensorSession, wanted: { width?: number; height?: number } = {}): Promise<ArcFace> {
    if (session.inputs.length !== 1) throw new Error(`the recognition model has ${session.inputs.length} inputs, expected one image input`);
    const input = session.inputs[0];
    const shape = imageShape(input);
    const width = shape.width ?? wanted.width ?? DEFAULT_SIDE;
    const height = shape.height ?? wanted.height ?? DEFAULT_SIDE;
    if ((wanted.width !== undefined && wanted.width !== width) || (wanted.height !== undefined && wanted.height !== height)) {
      throw new Error(
        `rec_input_w/rec_input_h ask for ${wanted.width ?? width}x${wanted.height ?? height} but the recognition model takes ${width}x${height} ` +
          '(its input size is fixed in the graph): remove the override or convert the model for that size',
      );
    }
    const face = new ArcFace(session, input, embeddingOutputIndex(session.outputs), width, height, shape.batch ?? 'dynamic');
    const raw = await face.embed(new Uint8Array(width * height * 3), 1);
    face.dimension = raw.length;
    return face;
  }

  get dim(): number {
    return this.dimension;
  }

  /**
   * Embeds `count` crops of width x height (HWC each, back to back): `count * dim` raw floats. A fixed
   * batch is filled and zero-padded per run, the padding dropped; the runs go at once.
   */
  async embed(crops: Uint8Array, count: number): Promise<Float32Array> {
    const per = this.batch === 'dynamic' ? Math.max(1, count) : this.batch;
    const itemBytes = this.width * this.height * 3;
    const runs: Promise<Float32Array>[] = [];
    for (let start = 0; start < count; start += per) {
      const n = Math.min(per, count - start);
      runs.push(this.run(crops.subarray(start * itemBytes, (start + n) * itemBytes), n, this.batch === 'dynamic' ? n : this.batch));
    }
    if (runs.length === 1) return runs[0];
    const parts = await Promise.all(runs);
    const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private async run(pixels: Uint8Array, count: number, rows: number): Promise<Float32Array> {
    const feed = pixelFeed(this.input, { pixels, count, width: this.width, height: this.height, rows }, ARCFACE_NORM);
    const outputs = await this.session.run({ [this.input.name]: feed });
    const output = outputs[this.output].data;
    return output.slice(0, (output.length / rows) * count);
  }
}
