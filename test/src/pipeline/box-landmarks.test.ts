import { join } from 'node:path';
import t from 'tap';
import { openFaceModels } from '../../../src/pipeline/face-models.js';
import { SourceImage } from '../../../src/image/source.js';
import { landmarksForBoxes, type BoxDetector } from '../../../src/pipeline/box-landmarks.js';
import { DecodeLadder } from '../../../src/image/ladder.js';
import { detectFaces } from '../../../src/pipeline/detector.js';
import { parseDetectOptions } from '../../../src/pipeline/options.js';
import { emptyTimings } from '../../../src/pipeline/timings.js';
import { silentLogger, type Landmarks } from '../../../src/types.js';
import { readFace, requirePack } from '../../helpers/fixtures.js';

const pack = requirePack('scrfd_2.5g_mbf', 'fp32');
let detector: BoxDetector;
t.before(async () => {
  const engine = await openFaceModels(
    {
      runtime: 'onnxrt',
      detectionPath: join(pack, 'detection.onnx'),
      recognitionPath: join(pack, 'recognition.onnx'),
      device: 'cpu',
      intraOpThreads: 1,
      detSize: 640,
    },
    silentLogger,
  );
  detector = { engine, detSize: 640 };
});
t.teardown(() => detector?.engine.close());

const farthest = (a: Landmarks, b: Landmarks) => Math.max(...a.map(([x, y], i) => Math.hypot(x - b[i][0], y - b[i][1])));

t.test('landmarks for caller boxes: sent, matched, searched around, or none', async (t) => {
  const source = await SourceImage.open(readFace('groups/t1.jpg'), { maxPixels: 100_000_000 });
  const ladder = new DecodeLadder(source);
  const faces = await detectFaces(detector.engine, ladder, 640, parseDetectOptions({}), emptyTimings());
  t.ok(faces.length >= 2, 'the group photo has faces');
  const [first, second] = faces;
  const sent: Landmarks = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
    [9, 10],
  ];
  const empty: [number, number, number, number] = [0, 0, 12, 12];

  const result = await landmarksForBoxes(
    detector,
    ladder,
    [{ box: first.box, landmarks: sent }, { box: first.box }, { box: second.box }, { box: empty }],
    emptyTimings(),
  );

  t.same(result[0], sent, 'sent landmarks are used as they are');
  t.ok(farthest(result[1]!, first.landmarks!) < 0.5, 'a box on a detected face takes its landmarks');
  t.ok(farthest(result[2]!, second.landmarks!) < 0.5, 'each box its own face');
  t.equal(result[3], null, 'a box with no face in or around it has none');

  const whole = await landmarksForBoxes(detector, ladder, [{ box: [0, 0, source.width, source.height] }], emptyTimings());
  t.ok(whole[0] !== null, 'the whole image takes the best face of the whole-image pass');
});
