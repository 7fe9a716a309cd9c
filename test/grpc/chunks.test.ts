import t from 'tap';
import { type ChunkError, Reassembler } from '../../grpc/chunks.js';
import type { InferRequest } from '../../grpc/protocol.js';

const limits = { maxPayloadBytes: 100, maxPending: 2, maxPendingBytes: 150, idleMs: 60_000 };
const chunk = (correlation_id: string, seq: number, total: number, payload: string, extra: Partial<InferRequest> = {}): InferRequest => ({
  correlation_id,
  task: 'face_detect',
  meta: {},
  payload_mime: 'image/jpeg',
  payload: Buffer.from(payload),
  seq,
  total,
  offset: 0,
  ...extra,
});

function reassembler(expired: ChunkError[] = []) {
  const r = new Reassembler(limits, (e) => expired.push(e));
  t.teardown(() => r.clear());
  return r;
}

t.test('a whole payload passes at once; total 0 and 1 both mean whole', async (t) => {
  const r = reassembler();
  t.equal(r.add(chunk('a', 0, 0, 'abc'))?.payload.toString(), 'abc');
  t.equal(r.add(chunk('a', 0, 1, 'xyz'))?.payload.toString(), 'xyz');
  t.equal(r.size, 0);
});

t.test('chunks of interleaved ids are joined in order; task and meta come from the first chunk', async (t) => {
  const r = reassembler();
  t.equal(r.add(chunk('a', 0, 3, 'a0', { task: 'face_embed', meta: { k: 'v' } })), undefined);
  t.equal(r.add(chunk('b', 0, 2, 'b0')), undefined);
  t.equal(r.add(chunk('a', 1, 0, 'a1', { task: '' })), undefined, 'later chunks may leave total and task out');
  const b = r.add(chunk('b', 1, 2, 'b1'));
  t.same({ id: b?.correlationId, payload: b?.payload.toString() }, { id: 'b', payload: 'b0b1' });
  const a = r.add(chunk('a', 2, 3, 'a2'));
  t.same({ task: a?.task, meta: a?.meta, payload: a?.payload.toString() }, { task: 'face_embed', meta: { k: 'v' }, payload: 'a0a1a2' });
  t.equal(r.size, 0);
});

t.test('every bound refuses with a clear error, and the rest of a refused payload is let go silently', async (t) => {
  const r = reassembler();
  t.throws(() => r.add(chunk('big', 0, 0, 'x'.repeat(101))), {
    code: 'UPLOAD_TOO_LARGE',
    correlationId: 'big',
    message: /at most 100 bytes.*received 101 bytes/,
  });
  t.throws(() => r.add(chunk('huge', 0, 1e9, 'x')), {
    code: 'UPLOAD_TOO_LARGE',
    message: /total is invalid: expected at most 100 chunks.*received 1000000000/,
  });
  r.add(chunk('grow', 0, 3, 'x'.repeat(60)));
  t.throws(() => r.add(chunk('grow', 1, 3, 'x'.repeat(41))), { code: 'UPLOAD_TOO_LARGE', message: /received 101 bytes so far for "grow"/ });
  t.equal(r.add(chunk('grow', 2, 3, 'x')), undefined, "the refused payload's last chunk is swallowed");
  t.throws(
    () => r.add(chunk('grow', 2, 3, 'x')),
    { code: 'INVALID_PARAMETER', message: /expected 0 for the first chunk/ },
    'after its last chunk, the id is new again',
  );
  r.add(chunk('p1', 0, 2, 'x'));
  r.add(chunk('p2', 0, 2, 'x'));
  t.throws(() => r.add(chunk('p3', 0, 2, 'x')), { code: 'BUSY', message: /already has 2 chunked payloads unfinished/ });
  t.throws(() => r.add(chunk('p1', 0, 2, 'x')), { code: 'INVALID_PARAMETER', message: /expected chunk 1 of "p1".*received 0/ });
  t.throws(() => r.add(chunk('p2', 1, 3, 'x')), { code: 'INVALID_PARAMETER', message: /total is invalid: expected 2.*received 3/ });
  t.throws(() => r.add(chunk('', 0, 2, 'x')), { code: 'INVALID_PARAMETER', message: /correlation_id is invalid/ });
  t.throws(() => r.add(chunk('e', 0, 2, '')), { code: 'INVALID_PARAMETER', message: /at least one byte/ });
  t.equal(r.size, 0, 'nothing refused is kept');
});

t.test('the bytes of all unfinished payloads together are bounded', async (t) => {
  const r = reassembler();
  r.add(chunk('a', 0, 3, 'x'.repeat(90)));
  t.throws(() => r.add(chunk('b', 0, 3, 'x'.repeat(61))), { code: 'BUSY', message: /more than 150 bytes/ });
  t.equal(r.size, 1);
});

t.test('a payload whose next chunk does not come in time is let go and reported', async (t) => {
  const expired: ChunkError[] = [];
  const r = new Reassembler({ ...limits, idleMs: 20 }, (e) => expired.push(e));
  r.add(chunk('slow', 0, 3, 'x'));
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (expired.length > 0) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  t.equal(expired[0].code, 'REQUEST_TIMEOUT');
  t.equal(expired[0].correlationId, 'slow');
  t.match(expired[0].message, /chunk 1 of 3 for "slow" did not arrive/);
  t.equal(r.size, 0);
  t.equal(r.add(chunk('slow', 1, 3, 'x')), undefined, 'its late chunks are let go without another answer');
});

t.test('closing reports each payload still missing chunks', async (t) => {
  const r = reassembler();
  r.add(chunk('a', 0, 2, 'x'));
  const errors = r.close();
  t.same(
    errors.map((e) => [e.correlationId, e.code]),
    [['a', 'INVALID_PARAMETER']],
  );
  t.match(errors[0].message, /stream ended after chunk 0 of 2/);
  t.equal(r.size, 0);
});
