import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { buildApp } from '../../app.js';
import { loadProtocol, type Capability, type InferRequest, type InferResponse } from '../../grpc/protocol.js';
import { startGrpc } from '../../server/grpc.js';
import type { FaceBackend } from '../../src/backend.js';
import { loadConfig } from '../../src/config.js';
import { testEnv } from './app.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A client of the two services, generated from grpc/*.proto by @grpc/proto-loader as any client would be. */
export interface GrpcClients {
  inference: grpc.Client & Record<string, (...args: never[]) => unknown>;
  health: grpc.Client & Record<string, (...args: never[]) => unknown>;
}

export function grpcClients(port: number): GrpcClients {
  const { Inference, Health } = loadProtocol();
  const target = `127.0.0.1:${port}`;
  const credentials = grpc.credentials.createInsecure();
  return {
    inference: new Inference(target, credentials) as GrpcClients['inference'],
    health: new Health(target, credentials) as GrpcClients['health'],
  };
}

/**
 * The app with gRPC on a free port of 127.0.0.1, over a shared backend; the clients and the app are
 * closed at teardown (clients first, so the drain has no call to wait for).
 */
export async function grpcServer(t: Teardown, options: { backend: FaceBackend; env?: Record<string, string> }) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'lumen-face-grpc-'));
  const config = loadConfig(testEnv({ LUMEN_FACE_CACHE_DIR: cacheDir, LUMEN_FACE_GRPC_PORT: '0', ...options.env }));
  const app = await buildApp({ config, backend: options.backend, logger: false });
  const server = await startGrpc(app, config);
  await app.ready();
  const clients = grpcClients(server!.port);
  t.teardown(async () => {
    clients.inference.close();
    clients.health.close();
    await app.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });
  return { app, config, port: server!.port, ...clients };
}

export const request = (fields: Partial<InferRequest>): Partial<InferRequest> => ({ correlation_id: 'c1', task: 'face_detect_and_embed', ...fields });

export interface InferOutcome {
  responses: InferResponse[];
  /** The stream's final status. */
  status: grpc.StatusObject;
}

/** Keys as metadata, the way Lumilio's client would send them. */
export function keyMetadata(headers: Record<string, string> = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  return metadata;
}

/** One Infer stream: write `requests`, half-close, and collect every answer until the stream ends. */
export function infer(clients: GrpcClients, requests: Partial<InferRequest>[], metadata = new grpc.Metadata()): Promise<InferOutcome> {
  return new Promise((resolve) => {
    const call = (clients.inference.Infer as unknown as (m: grpc.Metadata) => grpc.ClientDuplexStream<Partial<InferRequest>, InferResponse>)(metadata);
    const responses: InferResponse[] = [];
    call.on('data', (response: InferResponse) => responses.push(response));
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => resolve({ responses, status }));
    for (const r of requests) call.write(r);
    call.end();
  });
}

/** Each answer's parsed JSON result, by correlation id. */
export const resultJson = (response: InferResponse): Record<string, unknown> => JSON.parse(Buffer.from(response.result!).toString('utf8'));

export function unary<T>(
  client: GrpcClients['inference'] | GrpcClients['health'],
  method: string,
  message: object,
  metadata = new grpc.Metadata(),
): Promise<T> {
  return new Promise((resolve, reject) => {
    (client[method] as unknown as (m: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, value: T) => void) => void).call(
      client,
      message,
      metadata,
      (err, value) => (err ? reject(err) : resolve(value)),
    );
  });
}

/** Every message of a server stream, or its error. */
export function serverStream<T>(client: GrpcClients['inference'], method: string, metadata = new grpc.Metadata()): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const call = (client[method] as unknown as (m: object, md: grpc.Metadata) => grpc.ClientReadableStream<T>).call(client, {}, metadata);
    const items: T[] = [];
    call.on('data', (item: T) => items.push(item));
    call.on('error', reject);
    call.on('end', () => resolve(items));
  });
}

export type { Capability };

/**
 * An Infer stream driven step by step: write, then wait for the next answer, so a test can check the
 * stream is still open and serving after each bad request.
 */
export function conversation(clients: GrpcClients, metadata = new grpc.Metadata()) {
  const call = (clients.inference.Infer as unknown as (m: grpc.Metadata) => grpc.ClientDuplexStream<Partial<InferRequest>, InferResponse>)(metadata);
  const answers: InferResponse[] = [];
  const waiting: ((r: InferResponse) => void)[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  call.on('data', (response: InferResponse) => {
    const take = waiting.shift();
    if (take) take(response);
    else answers.push(response);
  });
  return {
    call,
    write: (r: Partial<InferRequest>) => call.write(r),
    next: () =>
      new Promise<InferResponse>((resolve) => {
        const ready = answers.shift();
        if (ready) resolve(ready);
        else waiting.push(resolve);
      }),
    end: () => {
      call.end();
      return status;
    },
    status,
  };
}

/** `bytes` cut into `count` chunks of one correlation id. */
export function chunked(id: string, bytes: Buffer, count: number, fields: Partial<InferRequest> = {}): Partial<InferRequest>[] {
  const size = Math.ceil(bytes.length / count);
  return Array.from({ length: count }, (_, seq) => ({
    correlation_id: id,
    task: 'face_detect_and_embed',
    ...fields,
    payload: bytes.subarray(seq * size, (seq + 1) * size),
    seq,
    total: count,
    offset: seq * size,
  }));
}
