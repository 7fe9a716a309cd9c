// The fake librknnrt.so's exit report, both ways: the fake must be strict and count leaks for the
// other tests to mean anything (a C harness makes the mistakes on purpose), and the addon and the
// engine, run in a child process through success and failure paths, must leave nothing behind.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildFakeRknn, compileC, readFakeReport, repoRoot } from '../../../fake-rknn/build.js';
import { tempDir } from '../../../helpers/native.js';

t.test('the fake refuses sloppy callers', async (t) => {
  const lib = buildFakeRknn();
  const selftest = compileC([join(repoRoot(), 'test', 'fake-rknn', 'selftest.c')], 'selftest', ['-ldl', '-lpthread']);
  const dir = tempDir('selftest');
  const report = join(dir, 'report.json');
  const child = spawnSync(selftest, [lib, dir], { encoding: 'utf8', env: { ...process.env, FAKE_RKNN_REPORT: report } });
  const lines = child.stdout.split('\n').filter(Boolean);
  for (const line of lines) t.ok(line.startsWith('ok - '), line.replace(/^(not )?ok - /, ''));
  t.ok(lines.length >= 35, `ran the checks (${lines.length})`);
  t.equal(child.status, 0, child.stderr);

  const r = readFakeReport(report);
  t.equal(r.live_contexts, 1, 'the context left behind is reported');
  t.equal(r.live_output_buffers, 1, 'the output buffer left behind is reported');
  t.equal(r.leaks, 2);
  t.equal(r.concurrent_violations, 1, 'the overlapping run is recorded');
  t.equal(r.destroy_order_violations, 1, 'destroying the original first is recorded');
});

t.test('no leaks and no misuse at exit', async (t) => {
  const libraryPath = buildFakeRknn();
  const dir = tempDir('leaks');
  const report = join(dir, 'report.json');
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./fixtures/rknn-child.js', import.meta.url)), libraryPath, dir], {
    encoding: 'utf8',
    env: { ...process.env, FAKE_RKNN_REPORT: report },
  });
  t.equal(child.status, 0, child.stderr);
  t.match(child.stdout, /child done/);
  const r = readFakeReport(report);
  t.ok(r.contexts_created >= 20, `contexts were created (${r.contexts_created})`);
  t.ok(r.runs >= 20, `runs happened (${r.runs})`);
  t.equal(r.live_contexts, 0, 'every context destroyed');
  t.equal(r.live_output_buffers, 0, 'every output buffer released');
  t.equal(r.leaks, 0);
  t.equal(r.concurrent_violations, 0, 'no context used by two calls at once');
  t.equal(r.destroy_order_violations, 0, 'no original destroyed before its dups');
  t.equal(r.max_parallel_runs, 3, 'three contexts ran at once');
});
