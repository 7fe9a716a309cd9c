import os from 'node:os';
import ort from 'onnxruntime-node';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { PackedOutputs, TensorShape, WorkerDescription, WorkerSetup, WorkerTask } from './protocol.js';
import { ARCFACE_NORM, embeddingOutputIndex } from '../../face/arcface.js';
import { SCRFD_NORM } from '../../face/scrfd.js';
import { rgbToNchw } from '../tensor-layout.js';

/** Runs inside a worker thread: the sessions live here so inference never blocks the event loop. */

const setup = workerData as WorkerSetup;

/**
 * Inference yields to the event loop: this thread, and the intra-op threads ONNX Runtime starts from it
 * (Linux threads inherit their creator's nice value), run at a lower priority than the main thread, so
 * /healthz and request parsing get a core at once even when every core is busy with models.
 */
if (setup.inferenceNice > 0) {
  try {
    os.setPriority(Math.min(19, os.getPriority() + setup.inferenceNice)); // no pid: this thread only, on Linux
  } catch {
    /* not supported here: run at normal priority */
  }
}

let providers = setup.providers as ort.InferenceSession.ExecutionProviderConfig[];
let providerFallback: string | undefined;
const providerNames = () => providers.map((p) => (typeof p === 'string' ? p : p.name));

/** With an accelerator that cannot be loaded, fall back to CPU once and keep CPU for every session. */
async function createSession(path: string): Promise<ort.InferenceSession> {
  try {
    return await createSessionWith(path, providers);
  } catch (err) {
    if (providerNames().every((p) => p === 'cpu')) throw err;
    providerFallback = `${providerNames().join(', ')} could not be used: ${(err as Error).message}`;
    providers = ['cpu'];
    return createSessionWith(path, providers);
  }
}

async function createSessionWith(path: string, executionProviders: ort.InferenceSession.ExecutionProviderConfig[]) {
  return ort.InferenceSession.create(path, {
    executionProviders,
    intraOpNumThreads: setup.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Idle intra-op threads would otherwise spin for a while after every run, taking the core the
    // event loop, sharp or another worker needs; runs are back to back, so waking them costs little.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    // Fixed-shape SCRFD exports log harmless VerifyOutputSizes warnings on every run.
    logSeverityLevel: 3,
  });
}

const detection = await createSession(setup.detectionPath);
const recognition = await createSession(setup.recognitionPath);

const declaredDims = (m: ort.InferenceSession.ValueMetadata) => (m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : null)) : []);
// Chosen while answering 'describe', the first task of every worker, so that a refusal rejects that task.
let embeddingOutput = '';
const chooseEmbeddingOutput = () =>
  recognition.outputNames[embeddingOutputIndex(recognition.outputMetadata.map((m) => ({ name: m.name, dims: declaredDims(m) })))];

const shapes = (metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorShape[] =>
  metadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : null)) : [] }));

/** Hand the result back without copying its buffer. */
const moved = (value: PackedOutputs) => move({ [transferableSymbol]: [value.data.buffer], [valueSymbol]: value } as never);

function pack(tensors: ort.Tensor[]) {
  const total = tensors.reduce((sum, t) => sum + t.size, 0);
  const data = new Float32Array(total);
  const offsets = [0];
  for (const t of tensors) {
    data.set(t.data as Float32Array, offsets[offsets.length - 1]);
    offsets.push(offsets[offsets.length - 1] + t.size);
  }
  return moved({ data, offsets, dims: tensors.map((t) => [...t.dims]) });
}

async function runDetect(task: Extract<WorkerTask, { kind: 'detect' }>) {
  const input = rgbToNchw(task.pixels, 1, task.width, task.height, SCRFD_NORM.mean, SCRFD_NORM.std);
  const feeds = { [detection.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, task.height, task.width]) };
  const results = await detection.run(feeds);
  return pack(detection.outputNames.map((name) => results[name]));
}

async function runEmbed(task: Extract<WorkerTask, { kind: 'embed' }>) {
  // A model with a fixed batch dimension gets exactly that many images; the padding rows are dropped below.
  const rows = task.batch === 'dynamic' ? task.count : task.batch;
  const plane = task.width * task.height * 3;
  const input = new Float32Array(rows * plane);
  rgbToNchw(task.pixels, task.count, task.width, task.height, ARCFACE_NORM.mean, ARCFACE_NORM.std, input);
  const feeds = { [recognition.inputNames[0]]: new ort.Tensor('float32', input, [rows, 3, task.height, task.width]) };
  const results = await recognition.run(feeds);
  const output = results[embeddingOutput];
  const dim = output.size / rows;
  const embeddings = new Float32Array((output.data as Float32Array).subarray(0, task.count * dim));
  return moved({ data: embeddings, offsets: [0, embeddings.length], dims: [[task.count, dim]] });
}

export default async function handle(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'describe': {
      embeddingOutput = chooseEmbeddingOutput();
      const description: WorkerDescription = {
        detection: { inputs: shapes(detection.inputMetadata), outputs: shapes(detection.outputMetadata) },
        recognition: { inputs: shapes(recognition.inputMetadata), outputs: shapes(recognition.outputMetadata) },
        providers: providerNames(),
        providerFallback,
      };
      return description;
    }
    case 'detect':
      return runDetect(task);
    case 'embed':
      return runEmbed(task);
  }
}
