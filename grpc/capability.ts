import type { BackendInfo } from '../src/index.js';
import type { GrpcLimits } from './host.js';
import type { Capability } from './protocol.js';
import { INPUT_MIMES, TASKS } from './tasks.js';

/** The name Lumen's face node announces, which routers of the Lumen family know. */
export const SERVICE_NAME = 'face-general';

/** Lumen's runtime words: onnxrt-cpu, onnxrt-cuda, rknn. */
function runtimeName(info: BackendInfo): string {
  if (info.runtime === 'rknn') return 'rknn';
  return info.providers.some((p) => p.toLowerCase().startsWith('cuda')) ? 'onnxrt-cuda' : 'onnxrt-cpu';
}

/** What this node can do, built from what the backend reports: the three tasks, their mimes and limits, and the model. */
export function buildCapability(info: BackendInfo, limits: GrpcLimits): Capability {
  const taskLimits = {
    max_payload_bytes: String(limits.maxUploadBytes),
    max_pixels: String(info.limits.maxPixels),
    max_faces: String(limits.maxFaces),
    max_concurrency: String(limits.maxConcurrency),
  };
  return {
    service_name: SERVICE_NAME,
    model_ids: [info.model.name],
    runtime: runtimeName(info),
    max_concurrency: limits.maxConcurrency,
    precisions: [info.model.precision],
    extra: {
      model_name: info.model.name,
      model_id: info.model.name,
      face_embedding_dim: String(info.model.dim),
      supports_landmarks: 'true',
      server: `${info.service.name}/${info.service.version}`,
      device: info.device,
    },
    tasks: TASKS.map((task) => ({ name: task.name, input_mimes: INPUT_MIMES, output_mimes: [task.outputMime], limits: taskLimits })),
  };
}
