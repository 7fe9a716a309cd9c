import t from 'tap';
import type { FaceModels } from '../../../src/pipeline/face-models.js';
import { LumenError } from '../../../src/errors.js';
import { FacePipeline } from '../../../src/pipeline/pipeline.js';

/** Every detected face carries landmarks, so a detector without keypoint outputs is refused up front. */

const engineWithDetectionOutputs = (outputs: number): FaceModels => ({
  info: {
    runtime: 'onnxrt',
    device: 'cpu',
    providers: ['cpu'],
    recognition: { width: 112, height: 112, dim: 128, batch: 'dynamic' },
    detection: { outputs, size: 640, dynamic: true },
    details: {},
  },
  detect: () => Promise.reject(new Error('not run')),
  embed: () => Promise.reject(new Error('not run')),
  close: () => Promise.resolve(),
});
const settings = { detSize: 640, maxBatchSize: 8, maxBoxes: 256, maxFaces: 256, limits: { maxPixels: 1e8 } };

t.test('SCRFD layouts without keypoints are refused with MODEL_LOAD_FAILED', async (t) => {
  for (const outputs of [6, 10]) {
    t.throws(
      () => new FacePipeline(engineWithDetectionOutputs(outputs), settings),
      new LumenError('MODEL_LOAD_FAILED', `the detection model must be an SCRFD with five-point keypoints (9 or 15 outputs); received ${outputs} outputs`),
    );
  }
});

t.test('SCRFD layouts with keypoints are accepted', async (t) => {
  for (const outputs of [9, 15]) t.doesNotThrow(() => new FacePipeline(engineWithDetectionOutputs(outputs), settings));
});
