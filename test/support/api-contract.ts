/**
 * Checks answers of a running test app against the OpenAPI document: the status must be one the
 * operation documents, a JSON body must validate against its schema (ajv, JSON Schema 2020-12),
 * and a path or method the document does not have must be answered 404. `check-answers.ts` feeds
 * it every `fetch` a test makes to an app started by `startTestApp` (`checked-origins.ts`).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createOpenApiDocument } from '../../src/http/openapi.js';

// ajv-formats is CommonJS with a default export that TypeScript sees one level down.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export const document = createOpenApiDocument();

interface Response {
  $ref?: string;
  content?: Record<string, { schema: unknown }>;
}
interface Operation {
  responses: Record<string, Response>;
  'x-paperboy-prefix'?: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

/** Each documented operation with a matcher for concrete paths. */
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, Operation>).map(([method, operation]) => {
    const prefix = operation['x-paperboy-prefix'];
    const pattern = escapeRegExp(path).replace(/\\?\{\w+\\?\}/g, '([^/]+)');
    return {
      method,
      path,
      operation,
      pointer: `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses`,
      exact: new RegExp(`^${pattern}$`),
      // An arXiv id may keep its slash (`hep-th/9901001`): a trailing parameter takes the rest.
      trailing: new RegExp(`^${pattern.replace(/\(\[\^\/\]\+\)$/, '(.+)')}$`),
      under: prefix === undefined ? undefined : new RegExp(`^${escapeRegExp(prefix)}(/.*)?$`),
    };
  }),
);

/** The operation for a request (HEAD is GET's); under a mounted app's prefix, whatever the method. */
export function findOperation(method: string, pathname: string) {
  const wanted = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const candidates = operations.filter((operation) => operation.method === wanted);
  return (
    candidates.find((operation) => operation.exact.test(pathname)) ??
    candidates.find((operation) => operation.trailing.test(pathname)) ??
    operations.find((operation) => operation.under?.test(pathname))
  );
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'openapi.json');
const validators = new Map<string, ValidateFunction>();
function validatorFor(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

/** A response object, with a `$ref` to `components/responses` followed; and the pointer to it. */
function resolve(response: Response, pointer: string): { response: Response; pointer: string } {
  if (!response.$ref) return { response, pointer };
  const name = response.$ref.split('/').pop() as string;
  return {
    response: (document.components.responses as Record<string, Response>)[name] as Response,
    pointer: `#/components/responses/${name}`,
  };
}

const mediaType = (contentType: string | null) => contentType?.split(';')[0]?.trim().toLowerCase() ?? '';

export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  /** The `Allow` header: express answers OPTIONS itself, listing a path's methods. */
  allow?: string | null;
  body: string;
}

/** The documented operations of a path. */
const operationsAt = (pathname: string) =>
  operations.filter((operation) => operation.exact.test(pathname) || operation.trailing.test(pathname));

/**
 * express answers OPTIONS itself, listing a path's methods in `Allow`, unless middleware on the path
 * answers first (`/api/me` asks for the token): then with a status the path documents.
 */
function optionsProblem(what: string, answer: Answer, pathname: string): string | undefined {
  const at = operationsAt(pathname);
  if (at.length === 0)
    return answer.status === 404 ? undefined : `${what}: not in the document, so it should be 404`;
  if (answer.status !== 200) {
    const isDocumented = at.some((operation) => String(answer.status) in operation.operation.responses);
    return isDocumented ? undefined : `${what}: no operation of this path documents ${answer.status}`;
  }
  const methods = at.map((operation) => operation.method.toUpperCase());
  const documented = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
  const allowed = (answer.allow ?? '').split(/,\s*/).filter(Boolean);
  const isSame =
    allowed.length === documented.length && documented.every((method) => allowed.includes(method));
  return isSame ? undefined : `${what}: Allow ${answer.allow}, documented ${documented.join(', ')}`;
}

/** What is wrong with this answer according to the document, or undefined. */
export function problemWith(answer: Answer): string | undefined {
  const { pathname } = new URL(answer.url);
  const what = `${answer.method} ${pathname} → ${answer.status}`;
  const found = findOperation(answer.method, pathname);
  if (answer.method === 'OPTIONS' && !found?.under) return optionsProblem(what, answer, pathname);
  if (!found) {
    if (answer.status !== 404) return `${what}: not in the document, so it should be 404`;
    if (pathname.startsWith('/api/')) {
      return bodyProblem(
        what,
        answer,
        '#/components/responses/Error404',
        document.components.responses.Error404 as Response,
      );
    }
    return undefined;
  }
  // A mounted app's own paths (bull-board's API, the files under /static) are its business.
  if (found.under && !found.exact.test(pathname)) return undefined;
  const documented = found.operation.responses[String(answer.status)];
  if (!documented) {
    return `${what}: ${found.method.toUpperCase()} ${found.path} does not document ${answer.status} (it has ${Object.keys(found.operation.responses).join(', ')})`;
  }
  const { response, pointer } = resolve(documented, `${found.pointer}/${answer.status}`);
  return bodyProblem(what, answer, pointer, response);
}

function bodyProblem(what: string, answer: Answer, pointer: string, response: Response): string | undefined {
  const type = mediaType(answer.contentType);
  const media = Object.keys(response.content ?? {});
  // A redirect's few words (express writes one) are no one's business.
  if (answer.method === 'HEAD' || (answer.status >= 300 && answer.status < 400)) return undefined;
  if (answer.body === '')
    return media.length === 0 ? undefined : `${what}: empty, documented ${media.join(', ')}`;
  if (media.length === 0) return `${what}: has a body (${type}), documented none`;
  const documented = media.map(mediaType);
  if (!documented.includes(type) && !documented.includes('*/*')) {
    return `${what}: ${type}, documented ${media.join(', ')}`;
  }
  // JSON, or a JSON-based type (`application/feed+json`), is checked against the schema under its key.
  const key = media.find((candidate) => mediaType(candidate) === type);
  if (!key || !(type === 'application/json' || type.endsWith('+json'))) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `${what}: not JSON`;
  }
  const validate = validatorFor(
    `${pointer}/content/${key.replaceAll('~', '~0').replaceAll('/', '~1')}/schema`,
  );
  if (validate(body)) return undefined;
  return `${what}: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}\n  body: ${answer.body.slice(0, 500)}`;
}

const problems: string[] = [];
export function recordAnswer(answer: Answer) {
  const problem = problemWith(answer);
  if (problem) problems.push(problem);
}
/** The problems found since the last call. */
export const takeProblems = () => problems.splice(0);
