import t from 'tap';
import { isProbePath } from '../../routes/probe-paths.js';
import { copyParts, envPairs, parseDockerfile, type Stage } from '../helpers/dockerfile.js';
import { buildRoots, CONFIG_NAMES, exists, FOREIGN_NAMES, producedByBuild, read, routeChecker } from '../helpers/deploy.js';

/** No Docker engine here: each Dockerfile is parsed and checked against the repository, routes and config. */

const DOCKERFILES = ['Dockerfile', 'deploy/docker/cuda.Dockerfile', 'deploy/docker/rknn.Dockerfile'];
const routes = await routeChecker();
t.teardown(() => routes.close());

/** .dockerignore patterns, as the simple prefixes and `*.ext` globs this repository uses. */
const ignored = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const isIgnored = (path: string) => ignored.some((p) => (p.startsWith('*.') ? path.endsWith(p.slice(1)) : path === p || path.startsWith(`${p}/`)));

const instructions = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

for (const file of DOCKERFILES) {
  t.test(file, async (t) => {
    const { stages } = parseDockerfile(read(file));
    const final = stages[stages.length - 1];
    const byName = new Map(stages.map((s) => [s.name, s]));
    t.ok(stages.length >= 2, 'multi-stage');

    // Every COPY from the context exists and is not excluded by .dockerignore.
    for (const stage of stages) {
      for (const ins of instructions(stage, 'COPY')) {
        const { from, sources } = copyParts(ins);
        if (from) {
          t.ok(byName.has(from), `line ${ins.line}: stage "${from}" exists`);
          continue;
        }
        for (const source of sources) {
          t.ok(exists(source), `line ${ins.line}: ${source} exists`);
          t.notOk(isIgnored(source), `line ${ins.line}: ${source} is not in .dockerignore`);
        }
      }
    }

    // The build stage copies every root the TypeScript build compiles (except the tests and benchmarks).
    const build = byName.get('build');
    t.ok(build, 'a "build" stage');
    const copied = instructions(build!, 'COPY').flatMap((ins) => copyParts(ins).sources);
    for (const root of buildRoots().filter((r) => !['test', 'bench', 'dev'].includes(r))) t.ok(copied.includes(root), `the build copies ${root}`);
    t.ok(copied.includes('tsconfig.json'));
    t.ok(
      instructions(build!, 'RUN').some((r) => /\btsc -p tsconfig\.json\b/.test(r.args)),
      'the build compiles',
    );

    // The runtime runs a file the build produces, copied from the build stage.
    const cmd = instructions(final, 'CMD').at(-1)?.exec;
    t.same(cmd?.slice(0, 1), ['node'], 'CMD in exec form runs node');
    t.ok(producedByBuild(cmd![1]), `${cmd![1]} is produced by the build`);
    const fromBuild = instructions(final, 'COPY')
      .map(copyParts)
      .filter((c) => c.from === 'build');
    t.ok(
      fromBuild.some((c) => c.sources.includes('/app/dist') && c.dest === './dist'),
      'dist/ comes from the build',
    );
    t.ok(
      fromBuild.some((c) => c.sources.includes('/app/node_modules')),
      'node_modules/ comes from the build',
    );
    t.equal(instructions(final, 'WORKDIR').at(-1)?.args, '/app');

    // Signals reach node; it does not run as root.
    t.same(instructions(final, 'ENTRYPOINT').at(-1)?.exec, ['/usr/bin/tini', '--'], 'tini is PID 1');
    t.ok(
      instructions(final, 'RUN').some((r) => /apt-get install .*\btini\b/.test(r.args)),
      'tini is installed',
    );
    const user = instructions(final, 'USER').at(-1)?.args;
    t.ok(user && !['root', '0'].includes(user.split(':')[0]), `runs as ${user}`);

    // Variables are the config table's; port, cache and healthcheck agree with them.
    const env = new Map(instructions(final, 'ENV').flatMap(envPairs));
    for (const name of env.keys()) t.ok(CONFIG_NAMES.has(name) || FOREIGN_NAMES.has(name), `ENV ${name} is a known variable`);
    t.equal(env.get('LUMEN_FACE_HOST'), '0.0.0.0', 'listens on every interface');
    t.equal(instructions(final, 'EXPOSE').at(-1)?.args, env.get('LUMEN_FACE_PORT'), 'EXPOSE is LUMEN_FACE_PORT');
    t.same(instructions(final, 'VOLUME').at(-1)?.exec, [env.get('LUMEN_FACE_CACHE_DIR')], 'the cache is a volume');
    for (const run of stages.flatMap((s) => instructions(s, 'RUN'))) {
      for (const m of run.args.matchAll(/\b((?:LUMEN_FACE|ONNXRUNTIME_NODE)_[A-Z_]+)=/g))
        t.ok(CONFIG_NAMES.has(m[1]) || FOREIGN_NAMES.has(m[1]), `RUN sets ${m[1]}`);
    }

    const health = instructions(final, 'HEALTHCHECK').at(-1);
    t.ok(health, 'a HEALTHCHECK');
    const paths = [...health!.args.matchAll(/'(\/[a-z][\w/.-]*)'/g)].map((m) => m[1]);
    t.same(paths, ['/readyz'], 'the healthcheck asks /readyz');
    t.ok(routes.has('GET', paths[0]), `${paths[0]} is a route`);
    t.ok(isProbePath(paths[0]), 'and answers without a key or an allowed Host');
    t.match(health!.args, /process\.env\.LUMEN_FACE_PORT\|\|8000/, 'on the configured port');
  });
}

t.test('the RKNN image carries the addon and the file that marks the package root', async (t) => {
  const { stages } = parseDockerfile(read('deploy/docker/rknn.Dockerfile'));
  const final = stages[stages.length - 1];
  const copies = final.instructions.filter((i) => i.keyword === 'COPY').map(copyParts);
  t.ok(copies.some((c) => c.sources.includes('/app/native/build/Release/lumen_rknn.node')));
  t.ok(copies.some((c) => c.sources.includes('/app/native/binding.gyp')));
  t.ok(
    stages[0].instructions.some((i) => i.keyword === 'RUN' && /node native\/install\.mjs/.test(i.args)),
    'the addon is compiled in the build stage',
  );
  t.match(read('deploy/docker/rknn.Dockerfile'), /FROM --platform=linux\/arm64/);
});

t.test('the parser reads continuations, comments and both forms', async (t) => {
  const { args, stages } = parseDockerfile('ARG X=1\nFROM a AS b\n# note\nRUN one \\\n  # inside\n  two\nCMD ["node", "x.js"]\nENV A=1 B="two words"\n');
  t.equal(args.length, 1);
  t.equal(stages[0].name, 'b');
  t.equal(stages[0].instructions[0].args, 'one two');
  t.same(stages[0].instructions[1].exec, ['node', 'x.js']);
  t.same(envPairs(stages[0].instructions[2]), [
    ['A', '1'],
    ['B', 'two words'],
  ]);
});
