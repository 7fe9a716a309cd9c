import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { addressPolicy, parseCidrs } from '../../../src/fetch/address-policy.js';
import { isAllowed, parseAllowRules } from '../../../src/fetch/allowlist.js';
import { fetchImage, type FetchImageOptions, type ResolveAll } from '../../../src/fetch/fetch-image.js';
import { LumenError } from '../../../src/errors.js';
import { readFace } from '../../helpers/fixtures.js';
import type { Asserts } from '../../helpers/asserts.js';

/** Fetching a photo by URL (allow-list, address policy, redirects, limits), against real servers on 127.0.0.1. */

const photo = readFace('identities/Angelina_Jolie/01.jpg');
const seen: IncomingMessage[] = [];
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const server = createServer((req, res) => {
  seen.push(req);
  handler(req, res);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  server.closeAllConnections();
  server.close();
});
const port = (server.address() as AddressInfo).port;
const local = `http://127.0.0.1:${port}`;

const loopbackAllowed = addressPolicy(parseCidrs('127.0.0.0/8').list);
const options = (extra: Partial<FetchImageOptions> = {}): FetchImageOptions => ({
  rules: parseAllowRules(`127.0.0.1, photos.example, *.cdn.example, 169.254.169.254, 10.0.0.1, [::ffff:10.0.0.9]`).rules,
  policy: loopbackAllowed,
  maxBytes: 1024 * 1024,
  connectTimeoutMs: 1000,
  totalTimeoutMs: 2000,
  ...extra,
});

async function refused(t: Asserts, promise: Promise<unknown>, code: string, message: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof LumenError, `a LumenError, not ${String(err)}`);
  t.equal((err as LumenError).code, code);
  t.match((err as LumenError).message, message);
}

t.test('the address policy refuses every internal kind of address, and allows what the operator lists', async (t) => {
  const policy = addressPolicy();
  for (const address of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8',
  ]) {
    t.ok(policy(address), `${address} is refused`);
  }
  for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700::1111']) t.equal(policy(address), undefined, `${address} is public`);
  t.equal(addressPolicy(parseCidrs('10.0.0.0/8').list)('10.1.2.3'), undefined, 'an allowed network');
  t.ok(addressPolicy(parseCidrs('10.0.0.0/8').list)('192.168.1.1'), 'only that network');
  t.same(parseCidrs('10.0.0.0/8, nonsense, 10.0.0.0/33').errors, ['nonsense', '10.0.0.0/33']);
});

t.test('the allow list: origins match scheme, host and port; patterns match names below them', async (t) => {
  const { rules, errors } = parseAllowRules('https://photos.example.com, *.cdn.example, nas.lan, ftp://x.example, https://a.example/path');
  t.same(errors, ['ftp://x.example', 'https://a.example/path']);
  const ok = (url: string) => isAllowed(new URL(url), rules);
  t.ok(ok('https://photos.example.com/a.jpg'));
  t.notOk(ok('http://photos.example.com/a.jpg'), 'another scheme');
  t.notOk(ok('https://photos.example.com:8443/a.jpg'), 'another port');
  t.ok(ok('https://img.cdn.example/a.jpg'));
  t.notOk(ok('https://cdn.example/a.jpg'), 'the pattern is for names below it');
  t.notOk(ok('https://evilcdn.example/a.jpg'));
  t.ok(ok('http://nas.lan:8080/a.jpg'), 'a bare host name allows any port');
});

t.test('a photo is fetched; no credentials or cookies are sent', async (t) => {
  handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(photo);
  const bytes = await fetchImage(`http://user:secret@127.0.0.1:${port}/a.jpg`, options());
  t.same(bytes, photo, 'the bytes, whatever the Content-Type says');
  const req = seen.at(-1)!;
  t.notOk(req.headers.authorization, 'userinfo is not forwarded');
  t.notOk(req.headers.cookie);
});

t.test('a name is connected to at the address that was checked', async (t) => {
  handler = (_req, res) => res.end(photo);
  // photos.example exists in no DNS: the connection can only have used the checked answer.
  const resolve: ResolveAll = async (host) => (host === 'photos.example' ? [{ address: '127.0.0.1', family: 4 }] : []);
  t.same(await fetchImage(`http://photos.example:${port}/a.jpg`, options({ resolve })), photo);
  t.equal(seen.at(-1)!.headers.host, `photos.example:${port}`);

  const mixed: ResolveAll = async () => [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.7', family: 4 },
  ];
  await refused(
    t,
    fetchImage(`http://photos.example:${port}/a.jpg`, options({ resolve: mixed })),
    'URL_NOT_ALLOWED',
    /photos\.example is refused, for one of its addresses: 10\.0\.0\.7 is a loopback, private/,
  );
  const loopback: ResolveAll = async () => [{ address: '127.0.0.1', family: 4 }];
  await refused(
    t,
    fetchImage(`http://photos.example:${port}/a.jpg`, options({ resolve: loopback, policy: addressPolicy() })),
    'URL_NOT_ALLOWED',
    /127\.0\.0\.1/,
  );
});

t.test('each redirect is checked again, and there are at most 3', async (t) => {
  handler = (req, res) => {
    if (req.url === '/metadata') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    else if (req.url === '/private') res.writeHead(301, { location: 'http://10.0.0.1/a.jpg' }).end();
    else if (req.url === '/elsewhere') res.writeHead(302, { location: 'https://not-allowed.example/a.jpg' }).end();
    else if (req.url === '/mapped') res.writeHead(302, { location: 'http://[::ffff:10.0.0.9]/a.jpg' }).end();
    else if (req.url?.startsWith('/hop')) {
      const n = Number(req.url.slice(4));
      res.writeHead(307, { location: n === 0 ? '/photo' : `/hop${n - 1}` }).end();
    } else res.end(photo);
  };
  await refused(t, fetchImage(`${local}/metadata`, options()), 'URL_NOT_ALLOWED', /169\.254\.169\.254/);
  await refused(t, fetchImage(`${local}/private`, options()), 'URL_NOT_ALLOWED', /10\.0\.0\.1/);
  await refused(t, fetchImage(`${local}/elsewhere`, options()), 'URL_NOT_ALLOWED', /not in LUMEN_FACE_URL_FETCH_ALLOW/);
  await refused(t, fetchImage(`${local}/mapped`, options()), 'URL_NOT_ALLOWED', /::ffff:a00:9/);
  t.same(await fetchImage(`${local}/hop2`, options()), photo, '3 redirects are followed');
  await refused(t, fetchImage(`${local}/hop3`, options()), 'URL_FETCH_FAILED', /more than 3 redirects/);
});

t.test('only http and https, only allowed origins', async (t) => {
  await refused(t, fetchImage('file:///etc/passwd', options()), 'URL_NOT_ALLOWED', /only http and https/);
  await refused(t, fetchImage('https://example.org/a.jpg', options()), 'URL_NOT_ALLOWED', /not in LUMEN_FACE_URL_FETCH_ALLOW/);
  await refused(t, fetchImage('not a url', options()), 'INVALID_PARAMETER', /not a URL/);
});

t.test('a slow server times out, an endless body hits the byte limit, a non-image is refused', async (t) => {
  handler = (req, res) => {
    if (req.url === '/slow') return; // never answers
    if (req.url === '/drip') {
      res.writeHead(200);
      res.write(photo.subarray(0, 10)); // then nothing
      return;
    }
    if (req.url === '/endless') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      const pump = () => {
        while (res.write(chunk)) {
          /* fill the socket */
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    if (req.url === '/html') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end('<html><body>hello</body></html>');
    res.writeHead(404).end();
  };
  await refused(t, fetchImage(`${local}/slow`, options({ totalTimeoutMs: 300 })), 'URL_FETCH_FAILED', /did not answer within 300 ms/);
  await refused(t, fetchImage(`${local}/drip`, options({ totalTimeoutMs: 300 })), 'URL_FETCH_FAILED', /did not answer within 300 ms/);
  await refused(t, fetchImage(`${local}/endless`, options({ maxBytes: 200_000 })), 'UPLOAD_TOO_LARGE', /larger than 200000 bytes/);
  await refused(t, fetchImage(`${local}/html`, options()), 'UNSUPPORTED_IMAGE', /markup text/);
  await refused(t, fetchImage(`${local}/missing`, options()), 'URL_FETCH_FAILED', /HTTP 404/);
});
