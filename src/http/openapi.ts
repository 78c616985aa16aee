import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  type Answer,
  pathParameters,
  type RouteDescription,
  routes,
  securitySchemes,
  tags,
} from './api-description.js';
import { JsonFeed } from './api-schemas.js';
import { codesFor, ErrorBody } from './errors.js';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect): what a request sends, or an answer holds. */
export function toJsonSchema(schema: z.ZodType, io: Io): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    override: ({ jsonSchema }) => {
      // Query-string numbers are digits checked by a pattern and described as integers (`wholeNumber`).
      if (jsonSchema.type === 'integer') delete jsonSchema.pattern;
    },
  });
  return rest;
}

const errorResponseName = (status: number) => `Error${status}`;
const isApi = (route: RouteDescription) => route.path.startsWith('/api/');

/** `/api/me/liked-papers/{arxivId}` + delete → `deleteApiMeLikedPapersArxivId`. */
const operationId = (route: RouteDescription) =>
  route.method +
  (route.path === '/' ? 'Home' : '') +
  route.path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('');

function content(answer: Answer) {
  const { content } = answer;
  switch (content.type) {
    case 'json':
      return {
        [content.mediaType ?? 'application/json']: { schema: toJsonSchema(content.schema, 'output') },
      };
    case 'html':
      return { 'text/html': { schema: { type: 'string' } } };
    case 'text':
      return { [content.mediaType]: { schema: { type: 'string' } } };
    case 'feed':
      return {
        'application/atom+xml': { schema: { type: 'string' } },
        'application/feed+json': { schema: toJsonSchema(JsonFeed, 'output') },
      };
    case 'none':
      return undefined;
  }
}

function errorResponse(route: RouteDescription, status: number) {
  if (isApi(route)) return { $ref: `#/components/responses/${errorResponseName(status)}` };
  return {
    description: `A page saying what went wrong (${codesFor(status).join(', ')})`,
    content: { 'text/html': { schema: { type: 'string' } } },
  };
}

function parameters(route: RouteDescription) {
  const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: pathParameters[name],
    schema: { type: 'string' },
  }));
  const inQuery = Object.entries(route.query?.shape ?? {}).map(([name, schema]) => {
    const { description, ...rest } = toJsonSchema(schema as z.ZodType, 'input');
    return {
      name,
      in: 'query',
      required: !(schema as z.ZodType).isOptional(),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    };
  });
  const all = [...inPath, ...inQuery];
  return all.length === 0 ? undefined : all;
}

function operation(route: RouteDescription) {
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(route.answers)) {
    responses[status] = { description: answer.description, content: content(answer) };
  }
  for (const status of route.errors) responses[status] = errorResponse(route, status);
  const description = [
    route.description,
    route.prefix === undefined
      ? undefined
      : `Mounted at \`${route.prefix}\`: this entry stands for every path under it.`,
    route.query ? 'Unknown query parameters are refused (400 `invalid_parameter`).' : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: [route.tag],
    ...(route.prefix === undefined ? {} : { 'x-paperboy-prefix': route.prefix }),
    security: route.auth?.map((scheme) => ({ [scheme]: [] })) ?? [],
    parameters: parameters(route),
    requestBody: route.body && {
      required: true,
      description: route.body.description,
      content: Object.fromEntries(
        route.body.mediaTypes.map((type) => [
          type,
          { schema: toJsonSchema(route.body?.schema as z.ZodType, 'input') },
        ]),
      ),
    },
    responses,
  };
}

/** The error statuses any route answers, each with `ErrorBody` narrowed to that status's codes. */
function errorResponses() {
  const statuses = [...new Set(routes.filter(isApi).flatMap((route) => route.errors))].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => {
      const codes = codesFor(status);
      const narrowed = z.looseObject({
        error: z.looseObject({ code: z.enum(codes as [string, ...string[]]) }),
      });
      return [
        errorResponseName(status),
        {
          description: `Error: ${codes.map((code) => `\`${code}\``).join(', ')}`,
          content: {
            'application/json': {
              schema: {
                allOf: [{ $ref: '#/components/schemas/ErrorBody' }, toJsonSchema(narrowed, 'output')],
              },
            },
          },
        },
      ];
    }),
  );
}

/**
 * The OpenAPI 3.1 document of every route in `api-description.ts`; `serverUrl` is where clients send
 * requests (PUBLIC_URL). Pure: built once when the app is created.
 */
export function createOpenApiDocument({ serverUrl }: { serverUrl?: string } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = operation(route);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'paperboy',
      version,
      description:
        'Self-hosted research-paper digests. JSON API under `/api/`; errors are `{"error":{"code","message","details"?}}`. Also lists the HTML pages and operational endpoints.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: tags.map((tag) => ({ ...tag })),
    paths,
    components: {
      schemas: { ErrorBody: toJsonSchema(ErrorBody, 'output') },
      responses: errorResponses(),
      securitySchemes,
    },
  };
}
export type OpenApiDocument = ReturnType<typeof createOpenApiDocument>;
