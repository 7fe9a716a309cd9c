import sharp from 'sharp';
import { createBackend, type BackendInfo } from '../src/backend.js';
import { changedVariables, loadConfigWith } from '../src/config.js';
import { PACK_FLAGS, PACK_FLAGS_HELP, loadPackConfig, packOverrides, parseFlags } from './args.js';
import { quietLogger } from './output.js';

export const CHECK_HELP = `Usage: lumen-face check [--model NAME] [--precision P] [--runtime R] [--layout L]

Parses the configuration, finds the pack without downloading it, loads it, runs one detection and
one recognition on a built-in test image, and prints a short report. Use it as a container health
check or in CI.

${PACK_FLAGS_HELP}
  -h, --help          this help

Exit codes: 0 the pack works, 1 it is missing or broken, 2 bad flag or variable.`;

/** A 640x480 picture drawn here (a skin-toned oval on grey): it exercises every stage, face or not. */
export function testImage(): Promise<Buffer> {
  const svg = `<svg width="640" height="480" xmlns="http://www.w3.org/2000/svg">
    <rect width="640" height="480" fill="#7a8a99"/>
    <ellipse cx="320" cy="230" rx="90" ry="120" fill="#e0b090"/>
    <circle cx="285" cy="200" r="10" fill="#302010"/><circle cx="355" cy="200" r="10" fill="#302010"/>
    <rect x="290" y="290" width="60" height="10" fill="#a04040"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg().toBuffer();
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

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
    const image = await testImage();
    const detected = await backend.faces(image);
    const embedded = await backend.embedDetailed(image);
    const vector = embedded.faces[0]?.embedding;
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
      `test image 640x480: ${detected.faces.length} face(s) detected, 1 embedding`,
      `time: load ${ms(loadMs)}, decode ${ms(t.decode)}, detect ${ms(t.detect)}, align ${ms(t.align)}, embed ${ms(embedded.timings.embed)}`,
    ];
    if (!(vector && Math.abs(norm - 1) < 1e-3)) {
      process.stdout.write(`${lines.join('\n').replace('check: OK', 'check: FAILED')}\nthe recognizer gave no unit-length embedding\n`);
      return 1;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}

