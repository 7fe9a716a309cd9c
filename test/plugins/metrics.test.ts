import t from 'tap';
import { imagePart, multipart, testApp } from '../helpers/app.js';
import { readFace } from '../helpers/fixtures.js';

/** Prometheus text: `name{labels} value` lines, keyed by `name{labels}` as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) out.set(match[1], Number(match[2]));
  }
  return out;
}

const scrape = async (app: Awaited<ReturnType<typeof testApp>>) => {
  const res = await app.inject('/metrics');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return samples(res.body);
};

// Its own backend, so the model load is measured.
const app = await testApp(t, { env: { LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf', LUMEN_FACE_WORKERS: '1' } });
await app.faceBackend.loaded;

t.test('an image request is counted, timed by stage, and its faces counted', async (t) => {
  const upload = await multipart([imagePart(readFace('groups/t1.jpg'))]);
  const res = await app.inject({ method: 'POST', url: '/v1/faces', ...upload });
  t.equal(res.statusCode, 200);
  const faceCount = res.json().faces.length;
  t.ok(faceCount > 0);
  const timing = Object.fromEntries(
    String(res.headers['server-timing'])
      .split(', ')
      .map((entry) => {
        const [stage, dur] = entry.split(';dur=');
        return [stage, Number(dur) / 1000];
      }),
  );
  t.ok(timing.total > 0, "the request's wall time as total");
  delete timing.total;
  t.ok(Object.keys(timing).length >= 4, 'decode, detect, align, embed at least');

  const m = await scrape(app);
  t.equal(m.get('lumen_face_http_requests_total{method="POST",route="/v1/faces",status="200"}'), 1);
  t.equal(m.get('lumen_face_http_request_duration_seconds_count{method="POST",route="/v1/faces",status="200"}'), 1);
  t.equal(m.get('lumen_face_faces_per_image_count{route="/v1/faces",protocol="http"}'), 1);
  t.equal(m.get('lumen_face_faces_per_image_sum{route="/v1/faces",protocol="http"}'), faceCount);
  for (const [stage, seconds] of Object.entries(timing)) {
    t.equal(m.get(`lumen_face_stage_duration_seconds_count{route="/v1/faces",stage="${stage}",protocol="http"}`), 1, `${stage} observed once`);
    const sum = m.get(`lumen_face_stage_duration_seconds_sum{route="/v1/faces",stage="${stage}",protocol="http"}`) ?? NaN;
    t.ok(Math.abs(sum - seconds) <= 0.00005 + 1e-9, `${stage}: ${sum} s as in Server-Timing (${seconds} s)`);
  }
  t.equal(m.get('lumen_face_http_requests_in_flight'), 1, 'only the scrape itself is in flight');
});

t.test('the model, its load time, the workers and the process', async (t) => {
  const m = await scrape(app);
  t.equal(m.get('lumen_face_model_info{model="scrfd_500m_mbf",layout="lumen",runtime="onnxrt",device="cpu",providers="cpu",precision="fp32",dim="128"}'), 1);
  t.ok((m.get('lumen_face_model_load_seconds') ?? 0) > 0, 'model load time');
  t.equal(m.get('lumen_face_workers'), 1);
  const utilization = m.get('lumen_face_worker_utilization') ?? NaN;
  t.ok(utilization > 0 && utilization <= 1, `utilization ${utilization}`);
  t.equal(m.get('lumen_face_worker_queue_size'), 0);
  for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) t.ok(m.has(name), name);
});

t.test('errors are counted by status and code; unknown routes share one label', async (t) => {
  await app.inject('/no/such/route/1');
  await app.inject('/no/such/route/2');
  await app.inject({ method: 'POST', url: '/v1/faces', payload: 'x', headers: { 'content-type': 'text/plain' } });
  const m = await scrape(app);
  t.equal(m.get('lumen_face_http_requests_total{method="GET",route="unmatched",status="404"}'), 2);
  t.equal(m.get('lumen_face_http_errors_total{status="404",code="NOT_FOUND"}'), 2);
  t.equal(m.get('lumen_face_http_errors_total{status="415",code="NOT_MULTIPART"}'), 1);
});

t.test('503s by reason: NOT_READY while the models cannot load', async (t) => {
  const broken = await testApp(t, { env: { LUMEN_FACE_LOCAL_DIR: '/nonexistent' } });
  await broken.faceBackend.loaded.catch(() => undefined);
  const upload = await multipart([imagePart(readFace('groups/t1.jpg'))]);
  t.equal((await broken.inject({ method: 'POST', url: '/v1/faces', ...upload })).statusCode, 503);
  const m = samples((await broken.inject('/metrics')).body);
  t.equal(m.get('lumen_face_http_errors_total{status="503",code="NOT_READY"}'), 1);
  t.notOk(
    [...m.keys()].some((k) => k.startsWith('lumen_face_model_info')),
    'no model info without a model',
  );
  t.equal(m.get('lumen_face_workers'), 0, 'no workers without a model');
});
