import t from 'tap';
import { LumenError } from '../../../src/errors.js';
import { parseDetectOptions, photoOptions } from '../../../src/pipeline/options.js';

t.test('defaults and coercion', async (t) => {
  t.same(parseDetectOptions({}), { min_score: 0.5, min_size: 0, nms: 0.4 });
  t.same(parseDetectOptions({ min_score: '0.7', max_faces: '3' } as never), { min_score: 0.7, max_faces: 3, min_size: 0, nms: 0.4 });
});

t.test('bad knobs from the programmatic API are a 400 naming the knob', async (t) => {
  for (const [options, name] of [
    [{ min_score: 2 }, 'min_score'],
    [{ max_faces: -1 }, 'max_faces'],
    [{ max_faces: 1.5 }, 'max_faces'],
    [{ nms: 0 }, 'nms'],
    [{ min_size: 'big' }, 'min_size'],
  ] as const) {
    const err = (() => {
      try {
        parseDetectOptions(options as never);
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof LumenError, name);
    t.equal((err as LumenError).status, 400);
    t.equal((err as LumenError).code, 'INVALID_OPTION');
    t.match((err as LumenError).message, new RegExp(`^${name} is invalid: expected .*; received `));
  }
});

t.test('the options the photo workers take: checked once, max_faces always set and never above the ceiling', async (t) => {
  t.same(photoOptions({}, 256), { min_score: 0.5, min_size: 0, nms: 0.4, max_faces: 256 }, 'the ceiling is the default');
  t.equal(photoOptions({ max_faces: 3 }, 256).max_faces, 3);
  t.equal(photoOptions({ max_faces: '1000' }, 256).max_faces, 256, 'a query cannot multiply the work');
  t.throws(() => photoOptions({ max_faces: 0 }, 256), { code: 'INVALID_OPTION' });
});
