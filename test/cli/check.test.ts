import t from 'tap';
import { testFaceProblem } from '../../cli/check.js';
import { CHECK_FACE } from '../../cli/check-face.js';
import type { Box } from '../../src/types.js';

/** `check` fails unless the test photo's one face is found where it is and embedded as a unit vector. */

const unit = [0.6, 0.8];

t.test('the face where it is, embedded as a unit vector: no problem', async (t) => {
  t.equal(testFaceProblem([{ box: CHECK_FACE.box, embedding: unit }]), undefined);
  const [x1, y1, x2, y2] = CHECK_FACE.box;
  t.equal(testFaceProblem([{ box: [x1 + 4, y1 - 3, x2 - 2, y2 + 5], embedding: unit }]), undefined, 'a few pixels off');
});

t.test('no face, two faces, or a face elsewhere: the detector is named', async (t) => {
  t.match(testFaceProblem([]), /the detector must find the one face of the test photo .*; it found 0/);
  t.match(
    testFaceProblem([
      { box: CHECK_FACE.box, embedding: unit },
      { box: [0, 0, 40, 40], embedding: unit },
    ]),
    /it found 2/,
  );
  const elsewhere: Box = [200, 200, 320, 330];
  t.match(testFaceProblem([{ box: elsewhere, embedding: unit }]), /the detector must find the one face/);
});

t.test('an embedding that is not unit length: the recognizer is named', async (t) => {
  t.match(testFaceProblem([{ box: CHECK_FACE.box, embedding: [1, 1] }]), /the recognizer gave no unit-length embedding/);
  t.match(testFaceProblem([{ box: CHECK_FACE.box, embedding: [0, 0] }]), /the recognizer gave no unit-length embedding/);
});
