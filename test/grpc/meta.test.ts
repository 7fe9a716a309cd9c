import t from 'tap';
import { DETECTION_DEFAULTS, readDetectionMeta, readLandmarks } from '../../grpc/meta.js';

t.test("absent keys take Lumen's defaults", async (t) => {
  t.same(readDetectionMeta({}), { minScore: 0.7, nms: 0.4, faceSizeMin: 50, faceSizeMax: 1000, maxFaces: undefined });
  t.equal(DETECTION_DEFAULTS.max_faces, -1);
});

t.test("numbers are read as Python's float() reads them; counts are truncated as int(float()) does", async (t) => {
  const read = (meta: Record<string, string>) => readDetectionMeta(meta);
  t.equal(read({ face_size_min: '50' }).faceSizeMin, 50);
  t.equal(read({ face_size_min: '50.0' }).faceSizeMin, 50);
  t.equal(read({ face_size_min: ' 50.9 ' }).faceSizeMin, 50);
  t.equal(read({ face_size_max: '5e2' }).faceSizeMax, 500);
  t.equal(read({ max_faces: '10.0' }).maxFaces, 10);
  t.equal(read({ max_faces: '-1' }).maxFaces, undefined, '-1: no limit');
  t.equal(read({ max_faces: '0' }).maxFaces, undefined, '0: no limit, as in Lumen (only a positive count limits)');
  t.equal(read({ detection_confidence_threshold: '.5' }).minScore, 0.5);
  t.equal(read({ nms_threshold: '1' }).nms, 1);
});

t.test('garbage and out-of-range values are refused, naming the key, what was expected and what was received', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ detection_confidence_threshold: 'high' }, /^meta "detection_confidence_threshold" is invalid: expected a decimal number from 0 to 1; received "high"$/],
    [{ detection_confidence_threshold: '1.5' }, /detection_confidence_threshold.*received "1.5"/],
    [{ detection_confidence_threshold: '' }, /received ""/],
    [{ nms_threshold: '0' }, /nms_threshold" is invalid: expected a decimal number above 0 and at most 1; received "0"/],
    [{ face_size_min: 'NaN' }, /face_size_min.*received "NaN"/],
    [{ face_size_min: 'inf' }, /face_size_min.*received "inf"/],
    [{ face_size_min: '-5' }, /face_size_min.*at least 0.*received "-5"/],
    [{ face_size_max: '1_000' }, /face_size_max.*received "1_000"/],
    [{ max_faces: 'ten' }, /max_faces" is invalid: expected a whole number; -1 for no limit; received "ten"/],
    [{ max_faces: '1e400' }, /max_faces.*received "1e400"/],
    [{ face_size_min: 'x'.repeat(500) }, /received "x{80}"\.\.\.$/],
  ];
  for (const [meta, message] of cases) t.throws(() => readDetectionMeta(meta), { code: 'INVALID_PARAMETER', message }, JSON.stringify(meta).slice(0, 60));
});

t.test('landmarks: five {"x","y"} points as JSON', async (t) => {
  const points = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
    [9, 10],
  ];
  t.same(readLandmarks({ landmarks: JSON.stringify(points.map(([x, y]) => ({ x, y }))) }), points);
  t.equal(readLandmarks({}), undefined);
  for (const bad of ['nope', '[]', '[{"x":1,"y":2}]', JSON.stringify(points), JSON.stringify(points.map(([x]) => ({ x, y: 'a' })))]) {
    t.throws(
      () => readLandmarks({ landmarks: bad }),
      { code: 'INVALID_PARAMETER', message: /meta "landmarks" is invalid: expected JSON of five \{"x": number, "y": number\} points/ },
      bad,
    );
  }
});
