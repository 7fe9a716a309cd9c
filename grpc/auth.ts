import * as grpc from '@grpc/grpc-js';

/**
 * The key of a call, from the same two places HTTP reads it: `x-api-key: KEY` or `authorization: Bearer KEY`
 * (gRPC metadata keys are lower case).
 */
export function presentedKey(metadata: grpc.Metadata): string | undefined {
  const header = metadata.get('x-api-key')[0];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const authorization = metadata.get('authorization')[0];
  const bearer = /^Bearer +(.*)$/i.exec(typeof authorization === 'string' ? authorization : '');
  return bearer?.[1].trim();
}

/** UNAUTHENTICATED for a call without a valid key when keys are set; undefined when it may go on. */
export function refusal(metadata: grpc.Metadata, isKey: ((presented: string) => boolean) | undefined): grpc.StatusObject | undefined {
  if (!isKey) return undefined;
  const key = presentedKey(metadata);
  if (key !== undefined && isKey(key)) return undefined;
  const details =
    key === undefined ? 'this service needs an API key: send metadata "x-api-key: KEY" or "authorization: Bearer KEY"' : 'the API key is not valid';
  return { code: grpc.status.UNAUTHENTICATED, details, metadata: new grpc.Metadata() };
}
