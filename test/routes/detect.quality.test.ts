/** The quality block and knobs over HTTP: /v1/detect and /v1/faces. */
import t from 'tap';
import { backendFor, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { imagePart, multipart, testApp } from '../helpers/app.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const app = await testApp(t, { backend });
const group = readFace('groups/t1.jpg');

async function post(url: string) {
  const { payload, headers } = await multipart([imagePart(group)]);
  return app.inject({ method: 'POST', url, payload, headers });
}

t.test('every face of /v1/detect and /v1/faces has its quality', async (t) => {
  for (const url of ['/v1/detect', '/v1/faces']) {
    const res = await post(url);
    t.equal(res.statusCode, 200, url);
    const { faces } = res.json();
    t.equal(faces.length, 6, url);
    for (const f of faces) {
      t.same(Object.keys(f.quality).sort(), ['pitch', 'roll', 'sharpness', 'size', 'yaw'], url);
      for (const v of Object.values(f.quality)) t.type(v, 'number');
    }
    t.match(res.headers['server-timing'], /quality;dur=[\d.]+/, `${url}: the quality stage is timed`);
  }
});

t.test('max_yaw and min_sharpness drop faces over HTTP, and bad values get 400 naming the knob', async (t) => {
  const all = (await post('/v1/detect')).json().faces;
  const kept = (await post('/v1/faces?max_yaw=20&min_sharpness=240')).json().faces;
  const expected = all.filter((f: { quality: { yaw: number; sharpness: number } }) => Math.abs(f.quality.yaw) <= 20 && f.quality.sharpness >= 240);
  t.ok(expected.length > 0 && expected.length < all.length, `${expected.length} of ${all.length} faces pass`);
  t.same(
    kept.map((f: { box: number[] }) => f.box),
    expected.map((f: { box: number[] }) => f.box),
  );
  for (const query of ['max_yaw=91', 'max_yaw=-1', 'max_yaw=abc', 'min_sharpness=-1', 'min_sharpness=x']) {
    const res = await post(`/v1/detect?${query}`);
    t.equal(res.statusCode, 400, query);
    t.equal(res.json().code, 'INVALID_PARAMETER', query);
    t.match(res.json().message, query.split('=')[0], query);
  }
});
