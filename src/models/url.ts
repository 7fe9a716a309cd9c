import { LumenError } from '../errors.js';
import { invalid } from '../validation.js';
import type { PackRequest } from './types.js';

const KNOWN_HF_HOSTS = new Set(['huggingface.co', 'hf.co', 'hf-mirror.com']);

function parseBase(repoBase: string): URL {
  let u: URL;
  try {
    u = new URL(repoBase);
  } catch {
    throw new LumenError('INVALID_MODEL_REQUEST', invalid('model repository base', 'an http(s) URL', repoBase));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new LumenError('INVALID_MODEL_REQUEST', invalid('model repository base', 'an http(s) URL', repoBase));
  }
  return u;
}

export function isHfHost(url: URL, hfEndpoint?: string): boolean {
  if (KNOWN_HF_HOSTS.has(url.hostname)) return true;
  if (!hfEndpoint) return false;
  try {
    return new URL(hfEndpoint).host === url.host;
  } catch {
    return false;
  }
}

export function isHfRepo(req: Pick<PackRequest, 'repoBase' | 'hfEndpoint'>): boolean {
  return isHfHost(parseBase(req.repoBase), req.hfEndpoint);
}

export function packFileUrl(
  req: Pick<PackRequest, 'model' | 'runtime' | 'precision' | 'repoBase' | 'revision' | 'hfEndpoint'>,
  file: string,
): string {
  const base = parseBase(req.repoBase);
  const tail = `${req.runtime}/${req.precision}/${file}`;
  if (isHfHost(base, req.hfEndpoint)) {
    const org = base.pathname.split('/').find((s) => s !== '');
    if (!org) {
      throw new LumenError('INVALID_MODEL_REQUEST',
        invalid('Hugging Face repository base', 'a URL naming an organisation, e.g. https://huggingface.co/Lumilio-Photos', req.repoBase));
    }
    // Revisions such as refs/pr/1 must stay one path segment.
    const revision = encodeURIComponent(req.revision || 'main');
    return `${base.origin}/${org}/${req.model}/resolve/${revision}/${tail}`;
  }
  const prefix = (base.origin + base.pathname).replace(/\/+$/, '');
  return `${prefix}/${req.model}/${tail}`;
}
