import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { configError } from '../helpers/config.js';
import { lumenFace, runNode, SERVER } from '../helpers/cli.js';

/** Key settings fail closed and name the right line; repeated CLI flags are refused. */

const dir = mkdtempSync(join(tmpdir(), 'lumen-faults-keys-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const problem = (env: Record<string, string>) => configError(env)?.message ?? 'accepted';

t.test('an explicitly empty key list exits 2 like an empty key file', async (t) => {
  t.match(problem({ LUMEN_FACE_API_KEYS: '' }), /LUMEN_FACE_API_KEYS is set but empty/);
  t.match(problem({ LUMEN_FACE_API_KEYS: '  ' }), /LUMEN_FACE_API_KEYS is set but empty/);
  t.match(problem({ LUMEN_FACE_API_KEYS_FILE: '' }), /LUMEN_FACE_API_KEYS_FILE is set but empty/);
  t.equal(problem({}), 'accepted', 'unset is still no keys');
  const run = await runNode(SERVER, [], { LUMEN_FACE_API_KEYS: '', LUMEN_FACE_PORT: '0' });
  t.equal(run.code, 2, 'the server does not start');
  t.match(run.stderr, 'LUMEN_FACE_API_KEYS is set but empty');
  t.notMatch(run.stdout, /listening/i);
});

t.test('a bad key is named by its line in the file, comments and blank lines counted', async (t) => {
  const file = join(dir, 'keys');
  writeFileSync(file, '# keys for the photo app\ngood-key-1\n\nbad key here\n');
  const message = problem({ LUMEN_FACE_API_KEYS_FILE: file });
  t.match(message, /the key at line 4 is not/);
  t.notMatch(message, /bad key here/);
  t.match(problem({ LUMEN_FACE_API_KEYS: 'a-key,,bad key' }), /the key at position 3 is not/);
});

t.test('a repeated flag is refused, naming it', async (t) => {
  const run = await lumenFace(['check', '--model=x', '--model=y'], {});
  t.equal(run.code, 2);
  t.match(run.stderr, /--model is given twice/);
  const info = await lumenFace(['info', '--precision', 'fp32', '--precision', 'fp16'], {});
  t.equal(info.code, 2);
  t.match(info.stderr, /--precision is given twice/);
});

t.test('prototype names as knobs are unknown knobs, named', async (t) => {
  const { readKnobs, detectOptionsSchema } = await import('../../src/pipeline/options.js');
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    const input = JSON.parse(`{${JSON.stringify(name)}: "1"}`) as Record<string, unknown>;
    t.throws(
      () => readKnobs(detectOptionsSchema, input, { code: 'INVALID_PARAMETER', what: 'query parameter', strict: true }),
      { code: 'INVALID_PARAMETER', message: new RegExp(`^unknown query parameter "${name}"; this endpoint accepts "min_score"`) },
      name,
    );
  }
});
