import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StageTimings } from '../src/index.js';

/** What one image of a request gave: its face count and stage times. */
export interface ImageOutcome {
  faces: readonly unknown[];
  timings: StageTimings;
}

/**
 * Wall-clock honest stage times for Server-Timing. A request's photos run at once (a batch, verify), and a
 * photo's own runs may overlap, so adding their stage times up would claim more time than passed: each
 * stage is the longest any one photo spent in it, and all stages are scaled down together when they still
 * add up to more than the request's wall time, so they never do. `total` is that wall time.
 */
export function wallClockTimings(outcomes: readonly ImageOutcome[], wallMs: number): Record<string, number> {
  const longest: Record<string, number> = {};
  for (const { timings } of outcomes) {
    for (const [stage, ms] of Object.entries(timings)) longest[stage] = Math.max(longest[stage] ?? 0, ms);
  }
  const added = Object.values(longest).reduce((s, ms) => s + ms, 0);
  const scale = added > wallMs ? wallMs / added : 1;
  const out: Record<string, number> = {};
  for (const [stage, ms] of Object.entries(longest)) out[stage] = ms * scale;
  out.total = wallMs;
  return out;
}

export function serverTiming(timings: Record<string, number>): string {
  return Object.entries(timings)
    .map(([stage, ms]) => `${stage};dur=${ms.toFixed(1)}`)
    .join(', ');
}

/**
 * Send the stage times as Server-Timing (wall-clock honest, with the request's `total`), and keep each
 * image's own face count and times for the log line and the metrics. Every image route reports through here.
 */
export function reportOutcomes(request: FastifyRequest, reply: FastifyReply, outcomes: readonly ImageOutcome[]): void {
  if (outcomes.length === 0) return;
  reply.header('server-timing', serverTiming(wallClockTimings(outcomes, reply.elapsedTime)));
  request.pipelineStats = { images: outcomes.map((o) => ({ faces: o.faces.length, timings: { ...o.timings } })) };
}
