import type { TAP } from 'tap';

/** The few tap assertions shared helpers need, so they work with any (sub)test object. */
export type Asserts = Pick<TAP, 'ok' | 'equal' | 'match' | 'same'>;

/** An error answer in the documented shape, with this status, code and message. */
export function expectError(t: Asserts, res: { statusCode: number; json(): unknown }, status: number, code: string, message: RegExp) {
  t.equal(res.statusCode, status, `status ${status}`);
  const body = res.json() as Record<string, unknown>;
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], 'the error shape');
  t.equal(body.statusCode, status);
  t.equal(body.code, code);
  t.match(body.message, message);
}
