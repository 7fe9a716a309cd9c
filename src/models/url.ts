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

export function packFileUrl(req: Pick<PackRequest, 'model' | 'runtime' | 'precision' | 'repoBase' | 'revision' | 'hfEndpoint'>, file: string): string {
  return repoFileUrl(req, `${req.runtime}/${req.precision}/${file}`);
}

/**
 * URL of `tail` (a path inside the repository of pack `req.model`): Hugging Face's
 * `{org}/{model}/resolve/{revision}/{tail}`, or `{base}/{model}/{tail}` on a plain mirror.
 */
export function repoFileUrl(req: Pick<PackRequest, 'model' | 'repoBase' | 'revision' | 'hfEndpoint'>, tail: string): string {
  const base = parseBase(req.repoBase);
  if (isHfHost(base, req.hfEndpoint)) {
    const org = base.pathname.split('/').find((s) => s !== '');
    if (!org) {
      throw new LumenError(
        'INVALID_MODEL_REQUEST',
        invalid('Hugging Face repository base', 'a URL naming an organisation, e.g. https://huggingface.co/Lumilio-Photos', req.repoBase),
      );
    }
    // Revisions such as refs/pr/1 must stay one path segment.
    const revision = encodeURIComponent(req.revision || 'main');
    return `${base.origin}/${org}/${req.model}/resolve/${revision}/${tail}`;
  }
  const prefix = (base.origin + base.pathname).replace(/\/+$/, '');
  return `${prefix}/${req.model}/${tail}`;
}

/** Whether the base names the `organisation` (its first path segment on Hugging Face, any segment elsewhere). */
export function repoOrganisationIs(req: Pick<PackRequest, 'repoBase' | 'hfEndpoint'>, organisation: string): boolean {
  let base: URL;
  try {
    base = new URL(req.repoBase);
  } catch {
    return false;
  }
  const segments = base.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.toLowerCase());
  if (isHfHost(base, req.hfEndpoint)) return segments[0] === organisation.toLowerCase();
  return segments.includes(organisation.toLowerCase());
}
