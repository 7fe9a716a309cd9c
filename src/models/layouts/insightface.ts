import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LumenError } from '../../errors.js';
import { describeShape, readGraphSignature, type GraphSignature } from '../onnx-graph.js';
import type { PackRequest } from '../types.js';

/**
 * An insightface model folder (e.g. ~/.insightface/models/buffalo_l/) holds several graphs under
 * free names. As insightface's model router does, each graph's role comes from what it declares:
 * a SCRFD detector has 6, 9, 10 or 15 outputs (3 or 5 strides, with or without keypoints), a
 * recognizer one 3x112x112 input and one output. The other graphs (landmarks, gender/age) are skipped.
 */

export type GraphRole = 'detection' | 'recognition' | 'other';

const SCRFD_OUTPUT_COUNTS = new Set([6, 9, 10, 15]);

export function graphRole(g: GraphSignature): GraphRole {
  if (g.inputs.length !== 1) return 'other';
  const input = g.inputs[0].shape;
  if (input.length !== 4 || input[1] !== 3) return 'other';
  if (SCRFD_OUTPUT_COUNTS.has(g.outputs.length)) return 'detection';
  if (g.outputs.length === 1 && input[2] === 112 && input[3] === 112) return 'recognition';
  return 'other';
}

export interface RoutedGraph {
  file: string;
  path: string;
  role: GraphRole;
  /** "9 outputs, input [1,3,?,?]" or why it could not be read. */
  summary: string;
}

export interface InsightfaceFolder {
  dir: string;
  detection: RoutedGraph;
  recognition: RoutedGraph;
  graphs: RoutedGraph[];
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Every *.onnx graph in `dir` with its role, in file-name order. */
export async function routeGraphs(dir: string): Promise<RoutedGraph[]> {
  const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.onnx')).sort();
  const routed: RoutedGraph[] = [];
  for (const file of names) {
    const path = join(dir, file);
    try {
      const g = await readGraphSignature(path);
      const role = graphRole(g);
      const io =
        `${g.inputs.length} input${g.inputs.length === 1 ? '' : 's'} ${g.inputs.map((i) => describeShape(i.shape)).join(' ')}, ` +
        `${g.outputs.length} output${g.outputs.length === 1 ? '' : 's'}`;
      routed.push({ file, path, role, summary: io });
    } catch (err) {
      routed.push({ file, path, role: 'other', summary: `not loadable: ${(err as Error).message.split('\n')[0]}` });
    }
  }
  return routed;
}

/** The folder's detector and recognizer; refuses a folder that lacks either, naming what it found. */
export async function routeInsightfaceFolder(dir: string): Promise<InsightfaceFolder> {
  const graphs = await routeGraphs(dir);
  const found = graphs.length ? graphs.map((g) => `  ${g.file}: ${g.role === 'other' ? 'neither' : g.role} (${g.summary})`).join('\n') : '  no .onnx file';
  const pick = (role: GraphRole) => graphs.find((g) => g.role === role);
  const detection = pick('detection');
  const recognition = pick('recognition');
  if (!detection || !recognition) {
    const missing = [!detection && 'no detector (SCRFD: 6, 9, 10 or 15 outputs)', !recognition && 'no recognizer (one 3x112x112 input, one output)']
      .filter(Boolean)
      .join(' and ');
    throw new LumenError('MODEL_NOT_FOUND', `the insightface folder ${dir} has ${missing}. Found:\n${found}`);
  }
  return { dir, detection, recognition, graphs };
}

/** Folders tried for pack `req.model`: the local directory's, then the cache's. Never downloaded. */
export function insightfaceDirs(req: PackRequest): { local?: string; cache: string } {
  return { local: req.localDir ? resolve(req.localDir, req.model) : undefined, cache: resolve(req.cacheDir, req.model) };
}

/** Whether `dir` directly holds .onnx graphs (and no lumen or immich sub-folders decide otherwise). */
export async function looksLikeInsightface(dir: string): Promise<boolean> {
  if (!(await isDir(dir))) return false;
  return (await readdir(dir)).some((n) => n.toLowerCase().endsWith('.onnx'));
}
