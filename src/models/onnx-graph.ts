import ort from 'onnxruntime-node';

export interface GraphValue {
  name: string;
  /** Numbers for fixed dimensions, strings for symbolic ones; empty when unknown. */
  shape: (number | string)[];
}

export interface GraphSignature {
  inputs: GraphValue[];
  outputs: GraphValue[];
}

const values = (metadata: readonly ort.InferenceSession.ValueMetadata[]): GraphValue[] =>
  metadata.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : [] }));

/**
 * Opens an ONNX file just long enough to read what its graph declares. Throws when ONNX Runtime
 * cannot load it (not a graph, truncated, unsupported).
 */
export async function readGraphSignature(path: string): Promise<GraphSignature> {
  // No optimisation and one thread: only the declared inputs and outputs are wanted.
  const session = await ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    return { inputs: values(session.inputMetadata), outputs: values(session.outputMetadata) };
  } finally {
    await session.release();
  }
}

export const describeShape = (shape: readonly (number | string)[]) =>
  shape.length ? `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? String(d) : '?')).join(',')}]` : '[?]';
