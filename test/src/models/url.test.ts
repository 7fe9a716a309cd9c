import t from 'tap';
import { packFileUrl } from '../../../src/models/index.js';

const base = { model: 'scrfd_2.5g_mbf', runtime: 'onnxrt' as const, precision: 'fp32', revision: 'main' };

t.test('Hugging Face hosts use the resolve layout with the revision', async (t) => {
  t.equal(
    packFileUrl({ ...base, repoBase: 'https://huggingface.co/Lumilio-Photos' }, 'detection.onnx'),
    'https://huggingface.co/Lumilio-Photos/scrfd_2.5g_mbf/resolve/main/onnxrt/fp32/detection.onnx',
  );
  t.equal(
    packFileUrl({ ...base, repoBase: 'https://hf-mirror.com/Lumilio-Photos/', revision: 'v1.2' }, 'recognition.onnx'),
    'https://hf-mirror.com/Lumilio-Photos/scrfd_2.5g_mbf/resolve/v1.2/onnxrt/fp32/recognition.onnx',
  );
  t.equal(
    packFileUrl({ ...base, repoBase: 'https://huggingface.co/Org', revision: 'refs/pr/3' }, 'detection.onnx'),
    'https://huggingface.co/Org/scrfd_2.5g_mbf/resolve/refs%2Fpr%2F3/onnxrt/fp32/detection.onnx',
  );
  t.equal(
    packFileUrl({ ...base, repoBase: 'https://huggingface.co/Org', revision: '' }, 'detection.onnx'),
    'https://huggingface.co/Org/scrfd_2.5g_mbf/resolve/main/onnxrt/fp32/detection.onnx',
  );
});

t.test('the host of HF_ENDPOINT counts as Hugging Face, port included', async (t) => {
  const req = { ...base, runtime: 'rknn' as const, precision: 'int8', repoBase: 'http://127.0.0.1:8123/Org' };
  t.equal(
    packFileUrl({ ...req, hfEndpoint: 'http://127.0.0.1:8123' }, 'detection.rknn'),
    'http://127.0.0.1:8123/Org/scrfd_2.5g_mbf/resolve/main/rknn/int8/detection.rknn',
  );
  t.equal(packFileUrl({ ...req, hfEndpoint: 'http://127.0.0.1:9999' }, 'detection.rknn'), 'http://127.0.0.1:8123/Org/scrfd_2.5g_mbf/rknn/int8/detection.rknn');
});

t.test('any other base uses the plain layout without revision', async (t) => {
  t.equal(
    packFileUrl({ ...base, repoBase: 'https://models.example.org/lumen/', revision: 'v9' }, 'detection.onnx'),
    'https://models.example.org/lumen/scrfd_2.5g_mbf/onnxrt/fp32/detection.onnx',
  );
  t.equal(packFileUrl({ ...base, repoBase: 'http://10.0.0.2:8080' }, 'recognition.onnx'), 'http://10.0.0.2:8080/scrfd_2.5g_mbf/onnxrt/fp32/recognition.onnx');
});

t.test('bad bases are rejected', async (t) => {
  t.throws(() => packFileUrl({ ...base, repoBase: 'ftp://x/y' }, 'detection.onnx'), { code: 'INVALID_MODEL_REQUEST' });
  t.throws(() => packFileUrl({ ...base, repoBase: 'not a url' }, 'detection.onnx'), { code: 'INVALID_MODEL_REQUEST' });
  t.throws(() => packFileUrl({ ...base, repoBase: 'https://huggingface.co/' }, 'detection.onnx'), {
    code: 'INVALID_MODEL_REQUEST',
  });
});
