/**
 * Swagger UI plugins. @fastify/swagger-ui serialises these functions into the page, so they run in
 * the browser: they may use only their arguments and the page's globals (SwaggerUIBundle).
 */

interface ReactLike {
  createElement(type: unknown, props: object | null, ...children: unknown[]): unknown;
}
interface UiSystem {
  React: ReactLike;
}
interface FieldProps {
  errors?: unknown;
  schema?: { get?: (key: string) => unknown };
}
type Component = (props: FieldProps) => unknown;
declare const SwaggerUIBundle: { plugins: { DownloadUrl(system: unknown): object } };

interface SpecMap {
  getIn(path: string[]): { toJS?: () => unknown } | undefined;
}
interface ContentTypeSystem {
  specSelectors: { specJson(): SpecMap };
  oas3Actions: { setRequestBodyValue(payload: { value: unknown; pathMethod: [string, string] }): void };
}

/**
 * Switching a body that has both a form and JSON (POST /v1/verify) to application/json makes Swagger UI
 * show its form state as JSON (`{"image1":{"value":"","errors":[]}}`), and Execute then sends nothing
 * useful. On every switch to a JSON type, start the editor from that media type's example instead.
 */
export function JsonBodyFromExample(): object {
  type SetContentType = (payload: { value: string; pathMethod: [string, string] }) => unknown;
  return {
    statePlugins: {
      oas3: {
        wrapActions: {
          setRequestContentType: (original: SetContentType, system: ContentTypeSystem) => (payload: Parameters<SetContentType>[0]) => {
            const result = original(payload);
            if (/\bjson\b/i.test(payload.value ?? '')) {
              const [path, method] = payload.pathMethod;
              const media = ['paths', path, method, 'requestBody', 'content', payload.value];
              const spec = system.specSelectors.specJson();
              const example = spec.getIn([...media, 'example']) ?? spec.getIn([...media, 'schema', 'example']);
              const value = example === undefined ? '' : JSON.stringify(example.toJS ? example.toJS() : example, null, 2);
              system.oas3Actions.setRequestBodyValue({ value, pathMethod: payload.pathMethod });
            }
            return result;
          },
        },
      },
    },
  };
}

/** Swagger UI's own spec loader; listed because giving `plugins` replaces the default list. */
export function DownloadUrl(system: unknown): object {
  return SwaggerUIBundle.plugins.DownloadUrl(system);
}

/**
 * Swagger UI records "Required field is not provided" when Execute is pressed without a file, but
 * its file input never shows it (it tests `errors.length` on an Immutable List). Show the errors of
 * every form field in words under the field.
 */
export function FormFieldErrors(): { wrapComponents: Record<string, unknown> } {
  const withErrors = (Original: Component, system: UiSystem) => (props: FieldProps) => {
    const raw = props.errors as { toJS?: () => string[] } | string[] | undefined;
    let errors: string[] = raw === undefined ? [] : Array.isArray(raw) ? raw : (raw.toJS?.() ?? []);
    if (errors.length > 0 && props.schema?.get?.('format') === 'binary') errors = ['Choose a file: this field is required.'];
    const { createElement } = system.React;
    return createElement(
      'div',
      null,
      createElement(Original, props),
      errors.length === 0
        ? null
        : createElement(
            'div',
            { className: 'lumen-field-error', role: 'alert', style: { color: '#d32f2f', fontWeight: 600, marginTop: '4px' } },
            errors.join('; '),
          ),
    );
  };
  return { wrapComponents: { JsonSchema_string: withErrors } };
}

/**
 * Swagger UI sends an optional form field left empty as an empty value unless "Send empty value"
 * is unticked, and ticks it by default: a plain Execute on /v1/embed would send `boxes=` instead
 * of leaving it out. Untick it by default; a user can still tick it.
 */
export function EmptyFieldsLeftOut(): { wrapComponents: Record<string, unknown> } {
  interface IncludeEmptyProps {
    isIncludedOptions?: Record<string, unknown>;
  }
  const unticked = (Original: (props: IncludeEmptyProps) => unknown, system: UiSystem) => (props: IncludeEmptyProps) =>
    system.React.createElement(Original, { ...props, isIncludedOptions: { ...props.isIncludedOptions, defaultValue: false } });
  return { wrapComponents: { ParameterIncludeEmpty: unticked } };
}
