import { compileErrors, validate } from '@readme/openapi-parser';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEmailTemplates } from '../../src/email/load-templates.js';
import { errorCodes } from '../../src/errors.js';
import { routes } from '../../src/http/api-description.js';
import { createApp } from '../../src/http/app.js';
import { statusFor } from '../../src/http/errors.js';
import { createRedis } from '../../src/queue/connection.js';
import { problemWith } from '../support/api-contract.js';
import { api, startTestApp, type TestApp } from '../support/app.js';

const adminToken = 'admin-token-for-tests-0123456789';

interface Layer {
  name: string;
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[]; mountpath?: unknown; set?: unknown };
}

/** `/manage/:token`, `/api/me/feedback/*arxivId` → `/manage/{token}`, `/api/me/feedback/{arxivId}`. */
const openApiPath = (expressPath: string) => expressPath.replace(/[:*](\w+)/g, '{$1}');

/**
 * What the express app answers, walked from its router (express 5 / router 2): each route as
 * `METHOD /path`, and each mounted app or file server as `PREFIX /path` (what is under it is theirs).
 * Middleware that only passes requests on (headers, auth, the API's 404) is no route of its own.
 */
function mountedRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    const at = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
    if (layer.route) {
      return Object.keys(layer.route.methods)
        .filter((method) => method !== '_all' && layer.route?.methods[method])
        .map((method) => `${method.toUpperCase()} ${openApiPath(prefix + layer.route?.path)}`);
    }
    const isSubApp = typeof layer.handle.mountpath === 'string' && typeof layer.handle.set === 'function';
    if (isSubApp || layer.name === 'serveStatic') return [`PREFIX ${prefix}${at}`];
    if (layer.handle.stack) return mountedRoutes(layer.handle.stack, prefix + at);
    return [];
  });
}

const documentedRoutes = () =>
  routes.map((route) =>
    route.prefix ? `PREFIX ${route.prefix}` : `${route.method.toUpperCase()} ${route.path}`,
  );

describe('the OpenAPI document', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN: adminToken }, workers: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('is served at /api/openapi.json, cacheable, and is valid OpenAPI 3.1', async () => {
    const served = await api(app, '/api/openapi.json');
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^application\/json/);
    expect(served.headers.get('cache-control')).toBe('public, max-age=300');
    expect(served.headers.get('access-control-allow-origin')).toBe('*');
    const document = served.json as { openapi: string; servers: { url: string }[] };
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.servers).toEqual([{ url: app.config.http.publicUrl }]);

    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
  });

  it('describes every route the app mounts, and nothing else', async () => {
    const redis = createRedis(app.config.redis);
    try {
      const express = createApp({
        ctx: app.runtime.ctx,
        redis,
        templates: await loadEmailTemplates(),
        queues: app.runtime.producer.queues,
      }) as Express & { router: { stack: Layer[] } };
      const mounted = new Set(mountedRoutes(express.router.stack));
      const documented = new Set(documentedRoutes());
      const missing = [...mounted].filter((route) => !documented.has(route));
      const extra = [...documented].filter((route) => !mounted.has(route));
      expect({ 'mounted, not in the document': missing, 'in the document, not mounted': extra }).toEqual({
        'mounted, not in the document': [],
        'in the document, not mounted': [],
      });
      expect(documented.size).toBe(routes.length); // no route described twice
      expect(mounted.has('GET /api/openapi.json') && mounted.has('PREFIX /admin/queues')).toBe(true);
    } finally {
      await redis.quit();
    }
  });

  it('lists every error code once in ErrorBody, and under each status the codes statusFor gives it', async () => {
    const document = (await api(app, '/api/openapi.json')).json as {
      components: {
        schemas: { ErrorBody: { properties: { error: { properties: { code: { enum: string[] } } } } } };
        responses: Record<string, { content: { 'application/json': { schema: { allOf: unknown[] } } } }>;
      };
    };
    expect(document.components.schemas.ErrorBody.properties.error.properties.code.enum).toEqual([
      ...errorCodes,
    ]);
    for (const [name, response] of Object.entries(document.components.responses)) {
      const status = Number(name.replace('Error', ''));
      const [, narrowed] = response.content['application/json'].schema.allOf as [
        unknown,
        { properties: { error: { properties: { code: { enum: string[] } } } } },
      ];
      expect(narrowed.properties.error.properties.code.enum, name).toEqual(
        errorCodes.filter((code) => statusFor(code) === status),
      );
    }
    // Every status an error code maps to is one some route answers.
    const statuses = new Set(routes.flatMap((route) => route.errors));
    for (const code of errorCodes) expect(statuses.has(statusFor(code)), code).toBe(true);
  });

  it('has a readable reference page made from it, with nothing from another site', async () => {
    const response = await fetch(`${app.url}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const page = await response.text();
    for (const route of routes) {
      expect(page).toContain(`<code>${route.method.toUpperCase()} ${route.path}</code>`);
    }
    expect(page).toContain('href="/api/openapi.json"');
    const addresses = [...page.matchAll(/(?:src|href)="([^"]*)"/g)].map(([, address]) => address);
    expect(addresses.filter((address) => !/^[/#]/.test(address ?? ''))).toEqual([]);
  });

  it('answers HEAD as GET, and 404 JSON to other methods and to unknown paths under /api/', async () => {
    const head = await fetch(`${app.url}/api/openapi.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    // express answers OPTIONS itself with the path's methods; the document does not list it, as HEAD.
    const options = await fetch(`${app.url}/api/openapi.json`, { method: 'OPTIONS' });
    expect(options.headers.get('allow')).toBe('GET, HEAD');
    for (const [method, path] of [
      ['POST', '/api/openapi.json'],
      ['DELETE', '/api/docs'],
      ['GET', '/api/openapi.yaml'],
      ['GET', '/api/openapi.json/x'],
    ] as const) {
      const answer = await api(app, path, { method });
      expect({ method, path, status: answer.status, json: answer.json }).toMatchObject({
        status: 404,
        json: { error: { code: 'not_found' } },
      });
    }
  });

  it('tells answers that match it from answers that do not', () => {
    const answer = { method: 'GET', url: `${app.url}/healthz`, contentType: 'application/json' };
    expect(problemWith({ ...answer, status: 200, body: '{"status":"ok"}' })).toBeUndefined();
    expect(problemWith({ ...answer, status: 200, body: '{"status":"ok","extra":1}' })).toMatch(/additional/);
    expect(problemWith({ ...answer, status: 418, body: '{"status":"ok"}' })).toMatch(/does not document 418/);
    expect(
      problemWith({
        ...answer,
        url: `${app.url}/api/me`,
        status: 401,
        body: '{"error":{"code":"not_found","message":"x"}}',
      }),
    ).toMatch(/allowed values/);
    expect(problemWith({ ...answer, url: `${app.url}/nowhere`, status: 200, body: '' })).toMatch(
      /should be 404/,
    );
    expect(
      problemWith({ ...answer, method: 'OPTIONS', status: 200, allow: 'GET, HEAD, POST', body: '' }),
    ).toMatch(/Allow/);
    // Under a mounted app's prefix, its own routes are its business.
    const board = { ...answer, method: 'POST', url: `${app.url}/admin/queues/api/queues/ingest/add` };
    expect(problemWith({ ...board, status: 200, body: '{"any":"thing"}' })).toBeUndefined();
    expect(
      problemWith({
        ...answer,
        method: 'DELETE',
        url: `${app.url}/api/me/feedback/hep-th/9901001`,
        status: 204,
        contentType: null,
        body: '',
      }),
    ).toBeUndefined();
  });
});
