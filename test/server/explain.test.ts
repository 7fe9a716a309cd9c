import t from 'tap';
import { explainStartupError } from '../../server/explain.js';
import { LumenError } from '../../src/errors.js';

/** The headline says what failed, so a failing command is not told its pack could not be loaded. */

const CONFIG = { modelName: 'buffalo_l', runtime: 'onnxrt', precision: 'fp32' } as const;

t.test('the headline follows the error code', async (t) => {
  const first = (err: unknown, command?: string) => explainStartupError(err, CONFIG, command).split('\n')[0];
  t.equal(
    first(new LumenError('MODEL_NOT_FOUND', 'pack buffalo_l not found:\n  local: x (not found)')),
    'lumen-face could not start: the model pack could not be found.',
  );
  t.equal(
    first(new LumenError('MODEL_DOWNLOAD_FAILED', 'pack could not be downloaded:')),
    'lumen-face could not start: the model pack could not be downloaded.',
  );
  t.equal(first(new LumenError('MODEL_LOAD_FAILED', 'bad graph'), 'check'), 'lumen-face check failed: the model pack could not be loaded.');
  t.equal(first(new LumenError('RKNN_UNAVAILABLE', 'no librknnrt.so'), 'info'), 'lumen-face info failed: the RKNN runtime is not available.');
  t.equal(first(new Error('EACCES: permission denied'), 'fetch'), 'lumen-face fetch failed: an unexpected error.');
  t.notMatch(explainStartupError(new Error('boom'), CONFIG, 'fetch'), /model pack/, 'an unrelated failure never blames the pack');
});

t.test('the places tried and next steps follow a missing pack only', async (t) => {
  const missing = explainStartupError(new LumenError('MODEL_NOT_FOUND', 'pack buffalo_l not found:\n  local: /x (not found)'), CONFIG);
  t.match(missing, 'pack buffalo_l not found. Places tried:\n  local: /x (not found)');
  t.match(missing, 'What to do next:');
  t.match(missing, '{dir}/buffalo_l/onnxrt/fp32/detection.onnx');
  t.notMatch(explainStartupError(new LumenError('MODEL_LOAD_FAILED', 'bad graph'), CONFIG), /What to do next/);
});
