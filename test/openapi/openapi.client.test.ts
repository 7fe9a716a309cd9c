import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import t from 'tap';
import ts from 'typescript';

/**
 * openapi-typescript turns the committed document into types; a small client (client/client.ts)
 * must type-check against them with exact types for boxes, landmarks, faces and errors.
 */

const root = new URL('../../../', import.meta.url);
const committed = JSON.parse(readFileSync(new URL('openapi/openapi.json', root), 'utf8')) as Document;
const clientSource = new URL('test/openapi/client/client.ts', root);

type Document = { components: { schemas: Record<string, Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> }> } };

/** Generate the types of `document` beside a copy of the client and type-check it; returns the errors. */
async function typeCheckClient(t: { teardown(fn: () => void): void }, document: Document): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-face-client-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // arrayLength: minItems/maxItems give tuples, which is how the document describes them.
  const types = astToString(await openapiTS(document as never, { arrayLength: true }));
  writeFileSync(join(dir, 'schema.d.ts'), types);
  copyFileSync(clientSource, join(dir, 'client.ts'));
  const program = ts.createProgram([join(dir, 'client.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const clone = (): Document => structuredClone(committed);

t.test('the client type-checks against the types generated from openapi/openapi.json', async (t) => {
  t.same(await typeCheckClient(t, committed), []);
});

t.test('the check fails when a box loses its tuple type', async (t) => {
  const document = clone();
  delete document.components.schemas.Box.maxItems;
  t.not((await typeCheckClient(t, document)).length, 0, 'box as number[] is caught');
});

t.test('the check fails when landmarks become nullable on /v1/faces', async (t) => {
  const document = clone();
  const face = document.components.schemas.Face.properties as Record<string, Record<string, unknown>>;
  face.landmarks = { ...document.components.schemas.Landmarks, nullable: true };
  t.not((await typeCheckClient(t, document)).length, 0, 'nullable landmarks are caught');
});
