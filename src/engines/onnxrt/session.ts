import ort from 'onnxruntime-node';
import type { Tensor } from '../../types.js';
import type { TensorMeta, TensorSession } from '../engine.js';

/** Execution providers to try in order, e.g. [{name: 'cuda', deviceId: 0}, 'cpu']. */
export type Providers = ({ name: string; deviceId?: number } | string)[];

export interface OnnxSessionOptions {
  providers: Providers;
  intraOpThreads: number;
}

export function providersFor(device: string): Providers {
  const cuda = /^cuda(?::(\d+))?$/.exec(device);
  if (cuda) return [{ name: 'cuda', deviceId: Number(cuda[1] ?? 0) }, 'cpu'];
  return ['cpu'];
}

const providerNames = (providers: Providers) => providers.map((p) => (typeof p === 'string' ? p : p.name));

/** An ONNX Runtime session on this thread, as a plain tensor session: metadata and run(feeds). */
export interface OnnxSession extends TensorSession {
  /** The providers in use, and why the requested accelerator was not, when it fell back to CPU. */
  providers: string[];
  providerFallback?: string;
}

/** With an accelerator that cannot be loaded, fall back to CPU, and say why. */
export async function openOnnxSession(path: string, options: OnnxSessionOptions): Promise<OnnxSession> {
  let providers = options.providers;
  let providerFallback: string | undefined;
  let session: ort.InferenceSession;
  try {
    session = await create(path, providers, options.intraOpThreads);
  } catch (err) {
    if (providerNames(providers).every((p) => p === 'cpu')) throw err;
    providerFallback = `${providerNames(providers).join(', ')} could not be used: ${(err as Error).message}`;
    providers = ['cpu'];
    session = await create(path, providers, options.intraOpThreads);
  }
  return wrap(session, providerNames(providers), providerFallback);
}

function create(path: string, executionProviders: Providers, intraOpThreads: number) {
  return ort.InferenceSession.create(path, {
    executionProviders: executionProviders as ort.InferenceSession.ExecutionProviderConfig[],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Idle intra-op threads would otherwise spin for a while after every run, taking the core that
    // sharp or another worker needs; runs are back to back, so waking them costs little.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    // Fixed-shape SCRFD exports log harmless VerifyOutputSizes warnings on every run.
    logSeverityLevel: 3,
  });
}

const dimsOf = (m: ort.InferenceSession.ValueMetadata) => (m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : null)) : []);
const outputMeta = (m: ort.InferenceSession.ValueMetadata): TensorMeta => ({ name: m.name, dims: dimsOf(m) });
// ONNX graphs are NCHW by convention; a uint8 input takes the bytes themselves.
const inputMeta = (m: ort.InferenceSession.ValueMetadata): TensorMeta => ({
  name: m.name,
  dims: dimsOf(m),
  type: m.isTensor && m.type === 'uint8' ? 'uint8' : 'float32',
  layout: 'NCHW',
});

const described = (tensors: readonly TensorMeta[]) => tensors.map((t) => ({ name: t.name, shape: t.dims }));

function wrap(session: ort.InferenceSession, providers: string[], providerFallback: string | undefined): OnnxSession {
  const inputs = session.inputMetadata.map(inputMeta);
  const outputs = session.outputMetadata.map(outputMeta);
  return {
    inputs,
    outputs,
    providers,
    providerFallback,
    details: { inputs: described(inputs), outputs: described(outputs) },
    async run(feeds): Promise<Tensor[]> {
      const tensors = Object.fromEntries(
        Object.entries(feeds).map(([name, t]) => [
          name,
          t.data instanceof Uint8Array ? new ort.Tensor('uint8', t.data, [...t.dims]) : new ort.Tensor('float32', t.data, [...t.dims]),
        ]),
      );
      const results = await session.run(tensors);
      return session.outputNames.map((name) => ({ data: results[name].data as Float32Array, dims: [...results[name].dims] }));
    },
    release: () => session.release(),
  };
}
