import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Parts, PartsSpec } from '../plugins/body.js';
import { LumenError } from '../src/errors.js';
import { abortWhenClientGoes, RequestWork } from '../server/request-work.js';
import { readKnobs } from '../src/index.js';
import { QUERY_KNOBS } from './query-validator.js';
import { reportOutcomes, type ImageOutcome } from './report.js';

export interface ImageRouteSpec<S extends z.ZodObject> {
  body: PartsSpec;
  /** The route's query schema: its knobs may also come as keys of a JSON body. */
  query: S;
}

export interface ImageWork<T> {
  body: T;
  /** One per image that was processed, for Server-Timing, the log line and the metrics. */
  outcomes: ImageOutcome[];
}

/**
 * Every image route runs through here: read the whole body (multipart or JSON) first, then take an
 * in-flight slot for the work, so a slow upload never holds one; then report what the work did.
 */
export async function imageRoute<S extends z.ZodObject, T>(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  spec: ImageRouteSpec<S>,
  work: (parts: Parts, knobs: z.output<S>, control: RequestWork) => Promise<ImageWork<T>>,
): Promise<T> {
  const knobNames = Object.keys(spec.query.shape);
  const parts = await request.readParts({ ...spec.body, jsonFields: knobNames });
  const knobs = bodyKnobs(request, spec.query, parts, knobNames);
  const control = new RequestWork(parts.files.length, app.config.requestBudget, request.routeOptions.url ?? 'unmatched');
  abortWhenClientGoes(reply.raw, control);
  try {
    const { body, outcomes } = await app.withImageSlot(() => work(parts, knobs, control), control.control.signal);
    reportOutcomes(request, reply, outcomes);
    return body;
  } catch (err) {
    const stopped = control.aborted;
    if (stopped?.code === 'ABORTED') reportAbandoned(app, request, control);
    // The shutdown's own line said what it cut; this request adds none.
    if (stopped?.code === 'SHUTTING_DOWN') request.abandoned = true;
    throw stopped ?? err;
  } finally {
    control.end();
  }
}

/** The one line an abandoned request leaves, and its count in /metrics. */
function reportAbandoned(app: FastifyInstance, request: FastifyRequest, work: RequestWork): void {
  const route = request.routeOptions.url ?? 'unmatched';
  request.abandoned = true;
  request.log.info({ route, photosDone: work.photosDone, photosSkipped: work.photos - work.photosDone }, 'the client went away: its work was stopped');
  app.countOutcome(route, 'aborted');
}

/** The query's knobs, with those the body gave; one given in both places is refused, as a repeat is. */
function bodyKnobs<S extends z.ZodObject>(request: FastifyRequest, schema: S, parts: Parts, knobNames: readonly string[]): z.output<S> {
  const fromBody = Object.entries(parts.fields).filter(([name]) => knobNames.includes(name));
  if (fromBody.length === 0) return request.query as z.output<S>;
  const inQuery = new URLSearchParams(request.url.split('?')[1] ?? '');
  const raw: Record<string, unknown> = Object.fromEntries(inQuery.entries());
  for (const [name, value] of fromBody) {
    if (inQuery.has(name)) throw new LumenError('INVALID_PARAMETER', `"${name}" is given in both the query and the body; give it once`);
    raw[name] = value;
    delete parts.fields[name];
  }
  return readKnobs(schema, raw, { ...QUERY_KNOBS, what: 'parameter' });
}
