import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StageTimings } from '../src/index.js';

/** What one image of a request gave: its face count and stage times. */
export interface ImageOutcome {
  faces: readonly unknown[];
  timings: StageTimings;
}

/** Stage times summed over the images of a request, for Server-Timing. */
function sumTimings(outcomes: readonly ImageOutcome[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const { timings } of outcomes) {
    for (const [stage, ms] of Object.entries(timings)) sum[stage] = (sum[stage] ?? 0) + ms;
  }
  return sum;
}

export function serverTiming(timings: Record<string, number>): string {
  return Object.entries(timings)
    .map(([stage, ms]) => `${stage};dur=${ms.toFixed(1)}`)
    .join(', ');
}

/**
 * Send the stage times (summed over the images) as Server-Timing, and keep each image's face count and
 * times for the log line and the metrics. Every image route reports through here.
 */
export function reportOutcomes(request: FastifyRequest, reply: FastifyReply, outcomes: readonly ImageOutcome[]): void {
  if (outcomes.length === 0) return;
  reply.header('server-timing', serverTiming(sumTimings(outcomes)));
  request.pipelineStats = { images: outcomes.map((o) => ({ faces: o.faces.length, timings: { ...o.timings } })) };
}
