import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestApp, type TestApp } from '../support/app.js';

const adminToken = 'admin-token-for-tests-0123456789';
const wrongToken = 'wrong-token-0123456789';

/** A request from one client: behind TRUST_PROXY=1, `X-Forwarded-For` is the address the limit counts. */
function as(client: string, app: TestApp) {
  return (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${app.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'x-forwarded-for': client, ...init.headers },
      body: init.body,
      redirect: 'manual',
    });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sessionCookieOf = (response: Response) =>
  (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('admin sign-in limits and dashboard sessions', () => {
  let app: TestApp;
  let redis: Redis;
  const failuresKey = (client: string) => `${app.config.redis.prefix}:admin-auth-failures:${client}`;
  const sessionKeys = () => redis.keys(`${app.config.redis.prefix}:admin-session:*`);

  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN: adminToken, TRUST_PROXY: '1' }, workers: false });
    redis = new Redis(app.config.redis.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await app.close();
  });

  /** Signs in with ?token= and returns the session cookie (`paperboy_admin=…`). */
  async function signIn(client: string) {
    const login = await as(client, app)(`/admin/queues?token=${adminToken}`);
    expect(login.status).toBe(303);
    return sessionCookieOf(login);
  }

  describe('failed attempts', () => {
    it('refuses even the right ?token= with 429 after 10 wrong ones, until the window passes', async () => {
      const client = as('203.0.113.10', app);
      for (let attempt = 1; attempt <= 10; attempt++) {
        expect((await client(`/admin/queues?token=${wrongToken}-${attempt}`)).status).toBe(401);
      }
      expect((await client(`/admin/queues?token=${wrongToken}`)).status).toBe(429);

      const right = await client(`/admin/queues?token=${adminToken}`);
      expect(right.status).toBe(429);
      expect(right.headers.get('set-cookie')).toBeNull();
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
      expect(Number(right.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
      expect(await right.text()).toContain('Too many failed admin sign-ins');
      // The same client's bearer token on the admin API is locked out too.
      const stats = await client('/api/admin/stats', { headers: bearer(adminToken) });
      expect(stats.status).toBe(429);
      expect(await stats.json()).toMatchObject({ error: { code: 'rate_limited' } });

      // The window is 15 minutes from the first failure; let it pass.
      expect(await redis.pttl(failuresKey('203.0.113.10'))).toBeGreaterThan(14 * 60_000);
      await redis.pexpire(failuresKey('203.0.113.10'), 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await client(`/admin/queues?token=${adminToken}`)).status).toBe(303);
    });

    it('counts every kind of wrong admin credential, on the API and the dashboard, together', async () => {
      const client = as('203.0.113.11', app);
      const wrong = [
        client('/api/admin/stats', { headers: bearer(wrongToken) }),
        client('/api/admin/papers', {
          method: 'POST',
          headers: { ...bearer(wrongToken), 'content-type': 'application/json' },
          body: '[]',
        }),
        client('/admin/queues', { headers: bearer(wrongToken) }),
        client('/admin/queues/api/queues', { headers: bearer(wrongToken) }),
        client(`/admin/queues?token=${wrongToken}`),
        client('/admin/queues', { headers: { cookie: 'paperboy_admin=forged-session-id' } }),
        client('/admin/queues', { headers: { cookie: `paperboy_admin=${adminToken}` } }),
      ];
      for (const response of await Promise.all(wrong)) expect(response.status).toBe(401);
      for (let attempt = wrong.length; attempt < 10; attempt++) {
        expect((await client('/api/admin/stats', { headers: bearer(wrongToken) })).status).toBe(401);
      }
      expect((await client('/api/admin/stats', { headers: bearer(adminToken) })).status).toBe(429);
      expect((await client('/admin/queues', { headers: bearer(adminToken) })).status).toBe(429);
    });

    it('counts parallel wrong guesses exactly: no more than 10 are ever answered 401', async () => {
      const client = as('203.0.113.12', app);
      const statuses = await Promise.all(
        Array.from(
          { length: 50 },
          async (_, index) => (await client(`/admin/queues?token=${wrongToken}-${index}`)).status,
        ),
      );
      expect(statuses.filter((status) => status === 401)).toHaveLength(10);
      expect(statuses.filter((status) => status === 429)).toHaveLength(40);
      expect((await client(`/admin/queues?token=${adminToken}`)).status).toBe(429);
    });

    it('does not count successful requests, nor requests that bring no credential', async () => {
      const client = as('203.0.113.13', app);
      for (let attempt = 0; attempt < 15; attempt++) {
        expect((await client('/admin/queues')).status).toBe(401);
        expect((await client('/api/admin/stats')).status).toBe(401);
      }
      for (let attempt = 0; attempt < 9; attempt++) {
        expect((await client('/api/admin/stats', { headers: bearer(wrongToken) })).status).toBe(401);
      }
      const cookie = await signIn('203.0.113.13');
      for (let attempt = 0; attempt < 15; attempt++) {
        expect((await client('/api/admin/stats', { headers: bearer(adminToken) })).status).toBe(200);
        expect((await client('/admin/queues/api/queues', { headers: { cookie } })).status).toBe(200);
      }
      // The tenth failure is still answered 401; from then on the client is locked out.
      expect((await client('/api/admin/stats', { headers: bearer(wrongToken) })).status).toBe(401);
      expect((await client('/api/admin/stats', { headers: bearer(adminToken) })).status).toBe(429);
      expect((await client('/admin/queues', { headers: { cookie } })).status).toBe(429);
    });

    it('limits each client on its own: another address still signs in', async () => {
      const attacker = as('198.51.100.20', app);
      for (let attempt = 0; attempt < 11; attempt++) await attacker(`/admin/queues?token=${wrongToken}`);
      expect((await attacker(`/admin/queues?token=${adminToken}`)).status).toBe(429);
      expect((await as('198.51.100.21', app)(`/admin/queues?token=${adminToken}`)).status).toBe(303);
    });
  });

  describe('sessions', () => {
    it('puts a random session id in the cookie, and only its hash in Redis, for 12 hours', async () => {
      const before = new Set(await sessionKeys());
      const first = await as('192.0.2.30', app)(`/admin/queues?token=${adminToken}`);
      const second = await as('192.0.2.30', app)(`/admin/queues?token=${adminToken}`);
      const setCookie = first.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/; Max-Age=43200;/);
      const [firstId, secondId] = [first, second].map((response) =>
        sessionCookieOf(response).replace('paperboy_admin=', ''),
      );
      expect(firstId).toMatch(/^[\w-]{43}$/);
      expect(secondId).not.toBe(firstId);

      const added = (await sessionKeys()).filter((key) => !before.has(key)).sort();
      const prefix = `${app.config.redis.prefix}:admin-session:`;
      expect(added).toEqual(
        [`${prefix}${sha256(firstId ?? '')}`, `${prefix}${sha256(secondId ?? '')}`].sort(),
      );
      for (const key of added) {
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(12 * 3600_000 - 60_000);
        expect(ttl).toBeLessThanOrEqual(12 * 3600_000);
        const stored = (await redis.get(key)) ?? '';
        expect(stored).not.toContain(firstId);
        expect(stored).not.toContain(adminToken);
      }
    });

    it('ends a session when its Redis entry is gone, whatever the cookie says, and clears the cookie', async () => {
      const cookie = await signIn('192.0.2.31');
      const client = as('192.0.2.31', app);
      expect((await client('/admin/queues', { headers: { cookie } })).status).toBe(200);

      const id = cookie.replace('paperboy_admin=', '');
      expect(await redis.del(`${app.config.redis.prefix}:admin-session:${sha256(id)}`)).toBe(1);
      const after = await client('/admin/queues', { headers: { cookie } });
      expect(after.status).toBe(401);
      expect(after.headers.get('set-cookie')).toMatch(
        /^paperboy_admin=; Path=\/admin; Expires=Thu, 01 Jan 1970/,
      );
    });

    it('POST /admin/logout ends the session in Redis and clears the cookie', async () => {
      const cookie = await signIn('192.0.2.32');
      const client = as('192.0.2.32', app);
      const id = cookie.replace('paperboy_admin=', '');
      const key = `${app.config.redis.prefix}:admin-session:${sha256(id)}`;

      // Another origin may not sign the admin out.
      const forged = await client('/admin/logout', {
        method: 'POST',
        headers: { cookie, origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
      });
      expect(forged.status).toBe(403);
      expect(await redis.exists(key)).toBe(1);

      const logout = await client('/admin/logout', {
        method: 'POST',
        headers: { cookie, origin: app.url, 'sec-fetch-site': 'same-origin' },
      });
      expect(logout.status).toBe(200);
      expect(logout.headers.get('set-cookie')).toMatch(
        /^paperboy_admin=; Path=\/admin; Expires=Thu, 01 Jan 1970/,
      );
      expect(await logout.text()).toContain('Signed out');
      expect(await redis.exists(key)).toBe(0);
      expect((await client('/admin/queues', { headers: { cookie } })).status).toBe(401);

      // The dashboard links to a page whose button posts the sign-out form.
      const page = await client('/admin/logout', { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<form method="post" action="/admin/logout">');
    });
  });

  describe('cross-origin writes to the dashboard', () => {
    const otherOrigin = 'http://127.0.0.1:1';
    let cookie: string;
    const client = (path: string, init: Parameters<ReturnType<typeof as>>[1]) =>
      as('192.0.2.40', app)(path, init);
    const waitingIngestJobs = () => app.runtime.producer.queues.ingest?.getWaitingCount();
    const addJob = (headers: Record<string, string>) =>
      client('/admin/queues/api/queues/ingest/add', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'ingest', data: { source: 'hf-daily' } }),
      });

    beforeAll(async () => {
      cookie = await signIn('192.0.2.40');
    });

    it('refuses cookie writes that no page of ours sent (403 cross_site), with no effect', async () => {
      const before = await waitingIngestJobs();
      const refused: Record<string, string>[] = [
        // A page on another port of this host: the same site, so SameSite=Strict sends the cookie.
        { cookie, origin: otherOrigin, 'sec-fetch-site': 'same-site' },
        { cookie, 'sec-fetch-site': 'cross-site' },
        { cookie, origin: otherOrigin },
        { cookie, origin: 'null' },
        // Neither header: no browser's same-origin fetch looks like this.
        { cookie },
      ];
      for (const headers of refused) {
        const response = await addJob(headers);
        expect(response.status, JSON.stringify(headers)).toBe(403);
        expect(await response.text()).toContain('only from the dashboard itself');
      }
      const pause = await client('/admin/queues/api/queues/ingest/pause', {
        method: 'PUT',
        headers: { cookie, origin: otherOrigin, 'sec-fetch-site': 'same-site' },
      });
      expect(pause.status).toBe(403);
      expect(await app.runtime.producer.queues.ingest?.isPaused()).toBe(false);
      expect(await waitingIngestJobs()).toBe(before);
    });

    it('accepts cookie writes from our own pages, and bearer writes without any Origin', async () => {
      const before = (await waitingIngestJobs()) ?? 0;
      expect((await addJob({ cookie, 'sec-fetch-site': 'same-origin', origin: app.url })).status).toBe(200);
      expect((await addJob({ cookie, origin: app.url })).status).toBe(200);
      expect((await addJob(bearer(adminToken))).status).toBe(200);
      expect(await waitingIngestJobs()).toBe(before + 3);
      // Reads need no Origin: another page cannot read the answer.
      expect((await client('/admin/queues/api/queues', { headers: { cookie } })).status).toBe(200);
    });

    it('refuses write bodies that are not JSON on the dashboard API (415), even with a bearer token', async () => {
      const before = await waitingIngestJobs();
      const json = JSON.stringify({ name: 'ingest', data: { source: 'hf-daily' } });
      for (const [type, body] of [
        ['text/plain', json],
        ['text/plain;charset=UTF-8', ''],
        ['application/x-www-form-urlencoded', 'name=ingest'],
        ['multipart/form-data; boundary=x', '--x--\r\n'],
      ] as const) {
        const response = await client('/admin/queues/api/queues/ingest/add', {
          method: 'POST',
          headers: { ...bearer(adminToken), 'content-type': type },
          body,
        });
        expect(response.status, type).toBe(415);
      }
      const sameOrigin = await client('/admin/queues/api/queues/ingest/pause', {
        method: 'PUT',
        headers: { cookie, 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' },
        body: 'x',
      });
      expect(sameOrigin.status).toBe(415);
      expect(await app.runtime.producer.queues.ingest?.isPaused()).toBe(false);
      expect(await waitingIngestJobs()).toBe(before);

      // The dashboard's own bodiless PUTs (no Content-Type) still work.
      const pause = await client('/admin/queues/api/queues/ingest/pause', {
        method: 'PUT',
        headers: { cookie, 'sec-fetch-site': 'same-origin' },
      });
      expect(pause.status).toBe(200);
      expect(await app.runtime.producer.queues.ingest?.isPaused()).toBe(true);
      await app.runtime.producer.queues.ingest?.resume();
    });
  });
});

describe('admin sessions across serve processes', () => {
  it('share failure counts and sessions through Redis; a new ADMIN_TOKEN ends every session', async () => {
    const first = await startTestApp({ env: { ADMIN_TOKEN: adminToken }, workers: false });
    const shared = { QUEUE_PREFIX: first.config.redis.prefix };
    const second = await startTestApp({ env: { ADMIN_TOKEN: adminToken, ...shared }, workers: false });
    const rotated = await startTestApp({
      env: { ADMIN_TOKEN: 'rotated-admin-token-0123456789', ...shared },
      workers: false,
    });
    try {
      const login = await fetch(`${first.url}/admin/queues?token=${adminToken}`, { redirect: 'manual' });
      const cookie = sessionCookieOf(login);
      expect((await api(second, '/admin/queues', { headers: { cookie } })).status).toBe(200);
      expect((await api(rotated, '/admin/queues', { headers: { cookie } })).status).toBe(401);

      // The rotated process refused that cookie: one failure; nine more, spread over both processes.
      for (let attempt = 0; attempt < 9; attempt++) {
        const server = attempt % 2 === 0 ? first : second;
        expect((await api(server, '/api/admin/stats', { token: wrongToken })).status).toBe(401);
      }
      expect((await api(first, '/api/admin/stats', { token: adminToken })).status).toBe(429);
      expect((await api(second, `/admin/queues?token=${adminToken}`)).status).toBe(429);
    } finally {
      await Promise.all([first.close(), second.close(), rotated.close()]);
    }
  });
});
