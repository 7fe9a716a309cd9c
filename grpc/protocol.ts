import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The .proto files sit beside the sources (grpc/), not in dist/: from dist/grpc/ they are two levels up.
 * Clients (the tests, the bench) load the same files, so they are generated from this contract too.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../grpc/', import.meta.url));
export const INFERENCE_PROTO = `${PROTO_DIR}inference.proto`;
export const HEALTH_PROTO = `${PROTO_DIR}health.proto`;

/** Field names as written in the .proto (correlation_id), 64-bit numbers as JS numbers, enums by name. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

type ServiceConstructor = grpc.ServiceClientConstructor;

export interface Protocol {
  Inference: ServiceConstructor;
  Health: ServiceConstructor;
}

/** Both services, loaded from their .proto files. */
export function loadProtocol(): Protocol {
  const definition = protoLoader.loadSync([INFERENCE_PROTO, HEALTH_PROTO], LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    home_native: { v1: { Inference: ServiceConstructor } };
    grpc: { health: { v1: { Health: ServiceConstructor } } };
  };
  return { Inference: loaded.home_native.v1.Inference, Health: loaded.grpc.health.v1.Health };
}

export const WIRE_ERROR_CODES = [
  'ERROR_CODE_UNSPECIFIED',
  'ERROR_CODE_INVALID_ARGUMENT',
  'ERROR_CODE_UNAVAILABLE',
  'ERROR_CODE_DEADLINE_EXCEEDED',
  'ERROR_CODE_INTERNAL',
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** The messages as the loader gives and takes them. */
export interface InferRequest {
  correlation_id: string;
  task: string;
  payload: Buffer;
  meta: Record<string, string>;
  payload_mime: string;
  seq: number;
  total: number;
  offset: number;
}

export interface InferError {
  code: WireErrorCode;
  message: string;
  detail: string;
}

export interface InferResponse {
  correlation_id: string;
  is_final: boolean;
  result?: Buffer;
  meta: Record<string, string>;
  error?: InferError;
  result_mime?: string;
  result_schema?: string;
}

export interface IOTask {
  name: string;
  input_mimes: string[];
  output_mimes: string[];
  limits: Record<string, string>;
}

export interface Capability {
  service_name: string;
  model_ids: string[];
  runtime: string;
  max_concurrency: number;
  precisions: string[];
  extra: Record<string, string>;
  tasks: IOTask[];
}
