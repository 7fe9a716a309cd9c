import { createBackend, type BackendInfo } from '../src/backend.js';
import { changedVariables, loadConfigWith } from '../src/config.js';
import { PACK_FLAGS, PACK_FLAGS_HELP, loadPackConfig, packOverrides, parseFlags } from './args.js';
import { iou } from '../src/face/geometry.js';
import type { Box } from '../src/types.js';
import { CHECK_FACE, checkFace } from './check-face.js';
import { quietLogger } from './output.js';

export const CHECK_HELP = `Usage: lumen-face check [--model NAME] [--precision P] [--runtime R] [--layout L]

Parses the configuration, finds the pack without downloading it, loads it, and checks that it finds
the one face of a built-in photo where it is and embeds it as a unit vector; prints a short report.
Use it as a container health check or in CI.

${PACK_FLAGS_HELP}
  -h, --help          this help

Exit codes: 0 the pack works, 1 it is missing or broken, 2 bad flag or variable.`;

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** What is wrong with the faces found in the test photo, if anything: it holds one face, at CHECK_FACE.box. */
export function testFaceProblem(faces: readonly { box: Box; embedding: ArrayLike<number> }[]): string | undefined {
  if (faces.length !== 1 || iou(faces[0].box, CHECK_FACE.box) < 0.5) {
    return `the detector must find the one face of the test photo at [${CHECK_FACE.box.join(', ')}]; it found ${faces.length}`;
  }
  const norm = Math.sqrt(Array.from(faces[0].embedding).reduce((s, x) => s + x * x, 0));
  return Math.abs(norm - 1) < 1e-3 ? undefined : `the recognizer gave no unit-length embedding (norm ${norm})`;
}

function filesReport(info: BackendInfo): string[] {
  return (['detection', 'recognition'] as const).flatMap((role) => {
    const f = info.files[role];
    return [`  ${role}: ${f.path}`, `    from ${f.source}${f.url ? ` (${f.url})` : ''}, ${f.size} bytes, sha256 ${f.sha256}`];
  });
}

export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, PACK_FLAGS, 'check');
  if (values.help) {
    process.stdout.write(`${CHECK_HELP}\n`);
    return 0;
  }
  loadPackConfig(values); // names a bad flag as the flag
  const config = loadConfigWith({ ...packOverrides(values), LUMEN_FACE_OFFLINE: '1' });
  const changed = changedVariables(packOverrides(values));
  const started = performance.now();
  const backend = await createBackend({ config, log: quietLogger() });
  try {
    const loadMs = performance.now() - started;
    const info = backend.info();
    const detected = await backend.faces(checkFace());
    const face = detected.faces[0];
    const overlap = face ? iou(face.box, CHECK_FACE.box) : 0;
    const vector = face?.embedding;
    const norm = vector ? Math.sqrt(vector.reduce((s, x) => s + x * x, 0)) : NaN;
    const t = detected.timings;
    const lines = [
      'lumen-face check: OK',
      `configuration: ${changed.length ? changed.join(' ') : 'every variable at its default'} (offline for this check)`,
      `pack: ${info.model.name} (${info.pack.layout} layout, ${info.runtime}${info.pack.layout === 'lumen' ? `/${info.model.precision}` : ''})`,
      ...filesReport(info),
      ...info.pack.notes.map((n) => `  ${n}`),
      `runtime: ${info.runtime} on ${info.device}, providers ${info.providers.join(', ')}`,
      `inputs: detection ${info.inputs.detection.width}x${info.inputs.detection.height}, recognition ${info.inputs.recognition.width}x${info.inputs.recognition.height} (batch ${info.inputs.recognition.batch ?? 'dynamic'})`,
      `embedding: ${info.model.dim} dimensions, norm ${norm.toFixed(4)}`,
      `test face (${CHECK_FACE.name}, ${CHECK_FACE.width}x${CHECK_FACE.height}): ${detected.faces.length} face(s) found, ` +
        `${face ? `box [${face.box.map((v) => v.toFixed(0)).join(', ')}], overlap with the expected box ${overlap.toFixed(2)}` : 'expected 1'}`,
      `time: load ${ms(loadMs)}, decode ${ms(t.decode)}, detect ${ms(t.detect)}, align ${ms(t.align)}, embed ${ms(t.embed)}`,
    ];
    const problem = testFaceProblem(detected.faces);
    if (problem) {
      process.stdout.write(`${lines.join('\n').replace('check: OK', 'check: FAILED')}\n${problem}\n`);
      return 1;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}
