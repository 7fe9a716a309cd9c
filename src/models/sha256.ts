import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigest {
  size: number;
  sha256: string;
}

export async function hashFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * A Hugging Face LFS etag is the file's sha256, quoted and possibly weak (W/"...").
 * Anything else (a git blob sha1, an S3 md5, an nginx mtime-size tag) says nothing about sha256.
 */
export function sha256FromEtag(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^(?:W\/)?"?([0-9a-fA-F]{64})"?$/.exec(value.trim());
  return m ? m[1].toLowerCase() : undefined;
}
