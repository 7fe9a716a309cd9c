import { readFileSync } from 'node:fs';
import t from 'tap';
import { errorTable } from '../../openapi/error-table.js';
import { operationIdOf } from '../../plugins/swagger/transform.js';
import { ERROR_CODES } from '../../src/errors.js';

/** The committed document (a test in test/app.test.ts keeps it equal to the live one). */
const root = new URL('../../../', import.meta.url);
const text = readFileSync(new URL('openapi/openapi.json', root), 'utf8');
const document = JSON.parse(text);
const schemas = document.components.schemas;

type Operation = { operationId?: string; responses: Record<string, unknown>; requestBody?: { content: Record<string, { schema: Schema }> } };
type Schema = { properties: Record<string, Record<string, unknown>>; required?: string[] };
const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
);

t.test('the Error code enum is the table in src/errors.ts, and so is docs/api.md', async (t) => {
  t.same(schemas.Error.properties.code.enum, Object.keys(ERROR_CODES));
  const readme = readFileSync(new URL('docs/api.md', root), 'utf8');
  t.ok(readme.includes(errorTable()), 'the error table of docs/api.md is current: run `npm run openapi`');
});

t.test('every operation has a unique operationId; every service operation documents its 4xx', async (t) => {
  const ids = operations.map((o) => o.operation.operationId);
  t.same(
    ids.filter((id) => typeof id !== 'string'),
    [],
    'all have one',
  );
  t.equal(new Set(ids).size, ids.length, 'unique');
  for (const { path, method, operation } of operations.filter((o) => o.path.startsWith('/v1/'))) {
    t.ok(
      Object.keys(operation.responses).some((s) => /^4/.test(s)),
      `${method} ${path}`,
    );
  }
  t.equal(operationIdOf('POST', '/v1/faces/batch'), 'postFacesBatch');
  t.equal(operationIdOf('GET', '/healthz'), 'getHealthz');
});

t.test('shared shapes are named component schemas', async (t) => {
  for (const name of [
    'Box',
    'Point',
    'Landmarks',
    'Quality',
    'Face',
    'EmbeddedFace',
    'EmbeddedBox',
    'Embedding',
    'ImageSize',
    'Model',
    'Error',
    'Info',
    'BatchError',
    'VerifyFace',
  ]) {
    t.ok(schemas[name], name);
  }
  t.same(schemas.Box, { ...schemas.Box, type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 });
  t.same(schemas.Landmarks, { ...schemas.Landmarks, items: { $ref: '#/components/schemas/Point' }, minItems: 5, maxItems: 5 });
  t.same(schemas.Face.properties.landmarks, { $ref: '#/components/schemas/Landmarks' }, 'never null on /v1/faces and /v1/detect');
  t.same(schemas.Face.properties.quality, { $ref: '#/components/schemas/Quality' }, 'every face carries the Quality component');
  t.same(schemas.Face.required, ['box', 'score', 'landmarks', 'quality']);
});

t.test('no tuple as an anyOf of copies, no ±2^53 bounds, no safe-integer examples', async (t) => {
  t.notMatch(text, /9007199254740991/);
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(v, `${where}/${i}`);
    } else if (typeof value === 'object' && value !== null) {
      const members = (value as { anyOf?: unknown[] }).anyOf;
      if (members) t.equal(new Set(members.map((m) => JSON.stringify(m))).size, members.length, `anyOf members differ at ${where}`);
      for (const [key, child] of Object.entries(value)) visit(child, `${where}/${key}`);
    }
  };
  visit(document, '#');
});

t.test('servers, licence and security are declared', async (t) => {
  t.ok(document.servers.length > 0);
  t.match(document.info.license, { name: 'MIT', url: /^https:/ });
  t.ok(Array.isArray(document.security));
});

t.test('the /v1/embed form: the image required, nothing prefilled', async (t) => {
  const form = document.paths['/v1/embed'].post.requestBody.content['multipart/form-data'].schema as Schema;
  t.same(form.required, ['image']);
  t.equal(form.properties.image.format, 'binary');
  // Swagger UI prefills a field with its example, or "string" when it has none.
  t.equal(form.properties.boxes.example, '', 'boxes has an empty example');
  for (const key of ['examples', 'default']) t.notOk(key in form.properties.boxes, `boxes has no ${key}`);
});
