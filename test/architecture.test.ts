import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import t from 'tap';
import { REPO_ROOT } from './helpers/paths.js';

/** The layering rules of ARCHITECTURE.md (beside the README), checked on the TypeScript sources (not the compiled output). */

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

const IMPORT_PATTERNS = [
  /^\s*(import|export)\s+(type\s+)?[^'";]*?\sfrom\s+['"]([^'"]+)['"]/gm,
  /^\s*import\s+['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

export function importsOf(source: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const match of source.matchAll(IMPORT_PATTERNS[0])) refs.push({ specifier: match[3], typeOnly: match[2] !== undefined });
  for (const match of source.matchAll(IMPORT_PATTERNS[1])) refs.push({ specifier: match[1], typeOnly: false });
  for (const match of source.matchAll(IMPORT_PATTERNS[2])) refs.push({ specifier: match[1], typeOnly: false });
  return refs;
}

/** Where a relative import lands, as a path from the repository root ('plugins/errors.js', ...). */
const target = (file: string, specifier: string) =>
  relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, file)), specifier))
    .split(sep)
    .join('/');

const HTTP_SIDE = /^(plugins|routes|cli|server)\/|^(app|server)\.(js|ts)$/;
/** The server's side: it is started by `cli serve`, so it never reaches back into cli/. */
const SERVER_SIDE = /^(plugins|routes|server|openapi)\/|^(app|server)\.ts$/;
const FASTIFY_PACKAGE = /^(fastify|fastify-.*|@fastify\/.*)$/;
const READS_ENV = /\bprocess\.env\b/;
/** Protocol layers speak for the backend, so they see only its public API. */
const PROTOCOL_LAYER = /^(routes|grpc)\//;
const PUBLIC_API = /^src\/(index|backend|types|errors)\.(js|ts)$/;
/** The configuration loader (src/config.ts re-exports it). */
const ENV_READER = 'src/config.ts';

export function layeringViolations(file: string, source: string): string[] {
  const problems: string[] = [];
  const inSrc = file.startsWith('src/');
  const inFace = file.startsWith('src/face/');
  for (const ref of importsOf(source)) {
    const relativeImport = ref.specifier.startsWith('.');
    if (inSrc && !relativeImport && FASTIFY_PACKAGE.test(ref.specifier)) problems.push(`${file} imports ${ref.specifier}`);
    if (inSrc && relativeImport && HTTP_SIDE.test(target(file, ref.specifier))) problems.push(`${file} imports ${ref.specifier}`);
    const withinFace = relativeImport && target(file, ref.specifier).startsWith('src/face/');
    if (inFace && !ref.typeOnly && !withinFace) problems.push(`${file} imports ${ref.specifier} for more than its types`);
    if (SERVER_SIDE.test(file) && relativeImport && target(file, ref.specifier).startsWith('cli/'))
      problems.push(`${file} imports ${ref.specifier} (the server never imports cli/)`);
    const landing = relativeImport ? target(file, ref.specifier) : '';
    if (file.startsWith('src/engines/') && landing.startsWith('src/face/')) problems.push(`${file} imports ${ref.specifier} (engines know nothing of faces)`);
    if (file.startsWith('plugins/') && /^src\/(pipeline|engines|face)\//.test(landing))
      problems.push(`${file} imports ${ref.specifier} (plugins wrap the backend, never its pipeline)`);
    if (PROTOCOL_LAYER.test(file) && landing.startsWith('src/') && !PUBLIC_API.test(landing)) {
      problems.push(`${file} imports ${ref.specifier} (a protocol layer uses only the backend's public API: src/index, src/backend, src/types, src/errors)`);
    }
  }
  if (file !== ENV_READER && READS_ENV.test(source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''))) {
    problems.push(`${file} reads process.env (only ${ENV_READER} may)`);
  }
  return problems;
}

const SOURCE_ROOTS = ['src', 'server', 'plugins', 'routes', 'grpc', 'cli', 'openapi'];

/** Lists written once: spelled out in their home only, imported everywhere else. */
const LISTS_HOME = 'src/models/names.ts';
const LISTS: [string, RegExp][] = [
  ['the runtime list', /['"]onnxrt['"]\s*[,|]\s*['"]rknn['"]|['"]rknn['"]\s*[,|]\s*['"]onnxrt['"]/],
  ['the precision list', /['"]fp16['"]\s*[,|]\s*['"]int8['"]/],
  ['the pack layout list', /['"]lumen['"]\s*[,|]\s*['"]immich['"]/],
  ['the pack-name rule', /\[A-Za-z0-9\]\[A-Za-z0-9\._-\]\*/],
];

export function rewrittenLists(file: string, source: string): string[] {
  if (file === LISTS_HOME) return [];
  return LISTS.filter(([, pattern]) => pattern.test(source)).map(([name]) => `${file} spells ${name} (import it from ${LISTS_HOME})`);
}

/** The shipped TypeScript: everything but the tests, which set up environments for child processes. */
function productSources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(REPO_ROOT, dir))) {
      const path = dir ? `${dir}/${name}` : name;
      if (statSync(join(REPO_ROOT, path)).isDirectory()) {
        if (SOURCE_ROOTS.includes(path.split('/')[0])) walk(path);
      } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
        files.push(path);
      }
    }
  };
  for (const name of readdirSync(REPO_ROOT)) {
    const stat = statSync(join(REPO_ROOT, name));
    if (stat.isDirectory()) {
      if (SOURCE_ROOTS.includes(name)) walk(name);
    } else if (name.endsWith('.ts')) {
      files.push(name);
    }
  }
  return files;
}

t.test('the checker catches each kind of violation', async (t) => {
  t.same(layeringViolations('src/a.ts', "import Fastify from 'fastify';"), ['src/a.ts imports fastify']);
  t.same(layeringViolations('src/a.ts', "import cors from '@fastify/cors';"), ['src/a.ts imports @fastify/cors']);
  t.same(layeringViolations('src/pipeline/a.ts', "import { x } from '../../plugins/errors.js';"), ['src/pipeline/a.ts imports ../../plugins/errors.js']);
  t.same(layeringViolations('src/a.ts', "const { buildApp } = await import('../app.js');"), ['src/a.ts imports ../app.js']);
  t.same(layeringViolations('src/face/a.ts', "import { readFile } from 'node:fs/promises';"), [
    'src/face/a.ts imports node:fs/promises for more than its types',
  ]);
  t.same(layeringViolations('src/face/a.ts', "import type { Box } from '../types.js';"), []);
  t.same(layeringViolations('src/face/a.ts', "import { iou } from './geometry.js';"), [], 'src/face may use itself');
  t.same(layeringViolations('src/face/a.ts', "import { clamp } from '../image/limits.js';"), [
    'src/face/a.ts imports ../image/limits.js for more than its types',
  ]);
  t.same(layeringViolations('routes/a.ts', 'const port = process.env.PORT;'), ['routes/a.ts reads process.env (only src/config.ts may)']);
  t.same(layeringViolations('src/config.ts', 'export const env = process.env;'), []);
  t.same(layeringViolations('src/config/load.ts', 'export const env = process.env;'), ['src/config/load.ts reads process.env (only src/config.ts may)']);
  t.same(layeringViolations('src/a.ts', '/** defaults to process.env */\nexport {};'), [], 'a comment is not a read');
  t.same(layeringViolations('server/start.ts', "import { logFormat } from '../cli/output.js';"), [
    'server/start.ts imports ../cli/output.js (the server never imports cli/)',
  ]);
  t.same(layeringViolations('server.ts', "await import('./cli/main.js');"), ['server.ts imports ./cli/main.js (the server never imports cli/)']);
  t.same(layeringViolations('app.ts', "import type { X } from './cli/args.js';"), ['app.ts imports ./cli/args.js (the server never imports cli/)']);
  t.same(layeringViolations('cli/main.ts', "import { startServer } from '../server/start.js';"), [], 'cli serve imports the server');
  t.same(layeringViolations('src/a.ts', "import { loggerOptions } from '../server/logger.js';"), ['src/a.ts imports ../server/logger.js']);
  t.same(
    layeringViolations('src/engines/rknn/a.ts', "import type { Box } from '../../face/geometry.js';"),
    ['src/engines/rknn/a.ts imports ../../face/geometry.js (engines know nothing of faces)'],
    'not even a type',
  );
  t.same(layeringViolations('src/engines/a.ts', "import type { Tensor } from '../types.js';"), []);
  const internal = "(a protocol layer uses only the backend's public API: src/index, src/backend, src/types, src/errors)";
  t.same(layeringViolations('routes/a.ts', "import { readKnobs } from '../src/pipeline/options.js';"), [
    `routes/a.ts imports ../src/pipeline/options.js ${internal}`,
  ]);
  t.same(layeringViolations('grpc/service.ts', "import type { PhotoPool } from '../src/pipeline/photo-pool.js';"), [
    `grpc/service.ts imports ../src/pipeline/photo-pool.js ${internal}`,
  ]);
  t.same(layeringViolations('grpc/a/b.ts', "import { RUNTIMES } from '../../src/models/names.js';"), [
    `grpc/a/b.ts imports ../../src/models/names.js ${internal}`,
  ]);
  t.same(layeringViolations('routes/a.ts', "import { createBackend, type FaceBackend } from '../src/index.js';"), []);
  t.same(layeringViolations('routes/a.ts', "import { LumenError } from '../src/errors.js';"), []);
  t.same(layeringViolations('routes/a.ts', "import type { Box } from '../src/types.js';"), []);
  t.same(layeringViolations('routes/a.ts', "import { imageRoute } from './image-route.js';"), [], 'routes use each other');
  t.same(layeringViolations('plugins/body.ts', "import { handOver } from '../src/pipeline/photo-pool.js';"), [
    'plugins/body.ts imports ../src/pipeline/photo-pool.js (plugins wrap the backend, never its pipeline)',
  ]);
});

t.test('the list checker catches a list written again', async (t) => {
  t.same(rewrittenLists('routes/a.ts', "runtime: z.enum(['onnxrt', 'rknn'])"), ['routes/a.ts spells the runtime list (import it from src/models/names.ts)']);
  t.same(rewrittenLists('src/engines/a.ts', "runtime: 'onnxrt' | 'rknn';"), ['src/engines/a.ts spells the runtime list (import it from src/models/names.ts)']);
  t.same(rewrittenLists('src/a.ts', "const P = ['fp16', 'int8', 'fp32'];"), ['src/a.ts spells the precision list (import it from src/models/names.ts)']);
  t.same(rewrittenLists('src/a.ts', "z.enum(['lumen', 'immich', 'insightface'])"), [
    'src/a.ts spells the pack layout list (import it from src/models/names.ts)',
  ]);
  t.same(rewrittenLists('src/a.ts', 'const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;'), [
    'src/a.ts spells the pack-name rule (import it from src/models/names.ts)',
  ]);
  t.same(rewrittenLists('src/models/names.ts', "export const RUNTIMES = ['onnxrt', 'rknn'] as const;"), []);
  t.same(rewrittenLists('src/a.ts', "if (runtime === 'rknn') return 'rknpu';"), [], 'one runtime named alone is not the list');
});

t.test('the lists are imported, not written again', async (t) => {
  const sources = productSources();
  t.ok(sources.includes(LISTS_HOME));
  t.same(
    sources.flatMap((file) => rewrittenLists(file, readFileSync(join(REPO_ROOT, file), 'utf8'))),
    [],
  );
});

t.test('the sources follow the layering rules', async (t) => {
  const files = productSources();
  t.ok(
    files.includes('src/config.ts') && files.includes('app.ts') && files.includes('server/start.ts') && files.some((f) => f.startsWith('src/face/')),
    'the sources are found',
  );
  const problems = files.flatMap((file) => layeringViolations(file, readFileSync(join(REPO_ROOT, file), 'utf8')));
  t.same(problems, [], 'no violations');
});

/**
 * Request bodies of the image routes are read in one place, plugins/body.ts, so every
 * route gets the same limits, the same byte count and the same error for the same mistake.
 */
const BODY_READER = 'plugins/body.ts';
const READS_MULTIPART = /[\w)\]]\.(?:parts|file|files|saveRequestFiles)\(|from '@fastify\/multipart'|\bbusboy\b/;

export function bodyReaderViolations(file: string, source: string): string[] {
  if (file === BODY_READER) return [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return READS_MULTIPART.test(code) ? [`${file} reads multipart itself (only ${BODY_READER} may)`] : [];
}

t.test('multipart is read in one place', async (t) => {
  t.same(bodyReaderViolations('routes/a.ts', 'for await (const part of request.parts()) {}'), [
    'routes/a.ts reads multipart itself (only plugins/body.ts may)',
  ]);
  t.same(bodyReaderViolations('routes/a.ts', 'const f = await request.file();'), ['routes/a.ts reads multipart itself (only plugins/body.ts may)']);
  t.same(bodyReaderViolations('plugins/a.ts', "import multipart from '@fastify/multipart';"), [
    'plugins/a.ts reads multipart itself (only plugins/body.ts may)',
  ]);
  t.same(bodyReaderViolations('routes/a.ts', '// request.parts() is for plugins/body.ts\nexport {};'), [], 'a comment is not a read');
  t.same(bodyReaderViolations(BODY_READER, 'request.parts()'), []);
  t.same(bodyReaderViolations('cli/a.ts', 'const list = [...file(pack.detection)];'), [], 'a spread call is not a read');
  const problems = productSources().flatMap((file) => bodyReaderViolations(file, readFileSync(join(REPO_ROOT, file), 'utf8')));
  t.same(problems, [], 'only plugins/body.ts reads multipart');
});

/** Every file under `dir` (a path from the repository root), recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

t.test('no benchmark imports test/: shared fixtures live in dev/', async (t) => {
  const bench = filesUnder('bench').filter((file) => file.endsWith('.ts'));
  t.ok(bench.length > 0, 'the benchmarks are found');
  const problems = bench.flatMap((file) =>
    importsOf(readFileSync(join(REPO_ROOT, file), 'utf8'))
      .filter((ref) => ref.specifier.startsWith('.') && target(file, ref.specifier).startsWith('test/'))
      .map((ref) => `${file} imports ${ref.specifier}`),
  );
  t.same(problems, []);
});

/** Test folders that do not mirror one source file: slow end-to-end runs, browsers, accuracy, helpers. */
const UNMIRRORED = /^test\/(e2e|browser|accuracy|helpers|fake-rknn)\/|\/fixtures\//;

/**
 * The source a test at `test/a/b/c[.topic].test.ts` tests: `a/b/c` with any extension (c.ts, c.mjs, c.json, a
 * folder c/), the name compared without case (test/readme.test.ts tests README.md). Undefined if there is none.
 */
export function testedSource(testFile: string, sources: readonly string[]): string | undefined {
  const stem = testFile.replace(/^test\//, '').replace(/\.test\.ts$/, '');
  const stems = [stem, stem.replace(/\.[^./]+$/, '')].map((s) => s.toLowerCase());
  return sources.find((source) => stems.some((s) => source.toLowerCase() === s || source.toLowerCase().replace(/\.[^./]+$/, '') === s));
}

t.test('every test sits at the path of the source it tests', async (t) => {
  const sources = ['README.md', 'ARCHITECTURE.md', 'src/face/nms.ts', 'plugins/body.ts', 'deploy/docker'];
  t.equal(testedSource('test/src/face/nms.test.ts', sources), 'src/face/nms.ts');
  t.equal(testedSource('test/plugins/body.limits.test.ts', sources), 'plugins/body.ts', 'a topic after the name');
  t.equal(testedSource('test/readme.test.ts', sources), 'README.md');
  t.equal(testedSource('test/deploy/docker.test.ts', sources), 'deploy/docker', 'a folder');
  t.equal(testedSource('test/face/nms.test.ts', sources), undefined, 'not mirrored');
  const tracked = (await import('node:child_process')).execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split('\n');
  const all = [...new Set(tracked.flatMap((file) => file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))))];
  const tests = filesUnder('test').filter((file) => file.endsWith('.test.ts') && !UNMIRRORED.test(file));
  t.ok(tests.length > 50, 'the tests are found');
  t.same(
    tests.filter((file) => testedSource(file, all) === undefined),
    [],
    'tests without a source at their path',
  );
});
