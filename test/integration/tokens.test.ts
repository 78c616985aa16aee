import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import type { TokenPurpose } from '../../src/subscribers/tokens.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { seedRequest, seedSubscriber } from '../support/factories.js';

// SPEC §4: a forged, altered, expired or wrong-purpose token gets 404 (pages) / 401 (API), and
// nothing it reaches changes stored data.

const day = 24 * 60 * 60 * 1000;
const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

interface Seeds {
  pending: Subscriber;
  active: Subscriber;
  other: Subscriber;
  deleted: Record<'confirm' | 'manage' | 'unsubscribe', string>;
  /** Async: a confirm token names a subscription request, which is stored first. */
  sign(purpose: TokenPurpose, subscriber: Subscriber, at?: Date): Promise<string>;
}

/** `<purpose letter><sealed id>.<expiry>.<signature>`, as `src/subscribers/tokens.ts` writes them. */
function tokenParts(token: string) {
  const match = /^([a-z])([A-Za-z0-9_-]+)\.([0-9a-z]+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!match) throw new Error(`not a token: ${token}`);
  const [, letter = '', id = '', expiry = '', mac = ''] = match;
  return { letter, id, expiry, mac };
}
type TokenParts = ReturnType<typeof tokenParts>;
const alter = (token: string, change: (parts: TokenParts) => Partial<TokenParts>) => {
  const parts = tokenParts(token);
  const { letter, id, expiry, mac } = { ...parts, ...change(parts) };
  return `${letter}${id}.${expiry}.${mac}`;
};

const withSignatureChar = (mac: string, index: number, pick: (position: number) => number) => {
  const position = base64url.indexOf(mac.at(index) ?? '');
  const at = index < 0 ? mac.length + index : index;
  return `${mac.slice(0, at)}${base64url[pick(position)]}${mac.slice(at + 1)}`;
};

type Route = 'confirm' | 'manage' | 'unsubscribe';
interface BadToken {
  route: Route;
  name: string;
  /** The path segment, already URL-encoded. */
  token: (seeds: Seeds) => Promise<string> | string;
}

/** A genuine token of the purpose each route expects, to be altered. */
const genuine = (route: Route, seeds: Seeds) =>
  seeds.sign(route, route === 'confirm' ? seeds.pending : seeds.active);

const garbage: [string, string][] = [
  ['x', 'x'],
  ['5 KB of "a"', 'a'.repeat(5 * 1024)],
  ['%00 (NUL)', '%00'],
  ['"../"', '..%2F'],
  ['"../../etc/passwd"', '..%2F..%2Fetc%2Fpasswd'],
  ['a malformed percent escape', '%E0%A4%A'],
  ['a lone %', '%'],
];

const otherPurposes: Record<Route, TokenPurpose[]> = {
  confirm: ['unsubscribe', 'manage', 'digest'],
  manage: ['unsubscribe', 'confirm', 'digest'],
  unsubscribe: ['manage', 'confirm', 'digest'],
};

const badPageTokens: BadToken[] = (['confirm', 'manage', 'unsubscribe'] as const).flatMap((route) => [
  {
    route,
    name: 'a character changed in the signature',
    token: async (seeds) =>
      alter(await genuine(route, seeds), ({ mac }) => ({
        mac: withSignatureChar(mac, 0, (i) => (i + 1) % 64),
      })),
  },
  {
    // 16 bytes take 22 base64 characters; the last one's low bits are padding. Comparing decoded
    // bytes would accept this one, comparing the text does not.
    route,
    name: 'the padding bits of the last signature character changed',
    token: async (seeds) =>
      alter(await genuine(route, seeds), ({ mac }) => ({ mac: withSignatureChar(mac, -1, (i) => i ^ 1) })),
  },
  {
    route,
    name: "the id changed to another subscriber's",
    token: async (seeds) => {
      const { id } = tokenParts(await seeds.sign(route, seeds.other));
      return alter(await genuine(route, seeds), () => ({ id }));
    },
  },
  {
    route,
    name: 'the expiry changed',
    token: async (seeds) =>
      alter(await genuine(route, seeds), ({ expiry }) => ({
        expiry: expiry === '0' ? 'zzzzzz' : (Number.parseInt(expiry, 36) + 7 * 24 * 3600).toString(36),
      })),
  },
  {
    route,
    name: 'the purpose letter changed',
    token: async (seeds) =>
      alter(await seeds.sign(otherPurposes[route][0] ?? 'digest', seeds.active), () => ({
        letter: route.charAt(0),
      })),
  },
  {
    route,
    name: 'a character appended',
    token: async (seeds) => `${await genuine(route, seeds)}A`,
  },
  { route, name: 'a deleted subscriber', token: (seeds) => seeds.deleted[route] },
  ...otherPurposes[route].map(
    (purpose): BadToken => ({
      route,
      name: `a ${purpose} token`,
      token: (seeds) => seeds.sign(purpose, route === 'confirm' ? seeds.pending : seeds.active),
    }),
  ),
  ...garbage.map(([name, segment]): BadToken => ({ route, name: `garbage: ${name}`, token: () => segment })),
]);
badPageTokens.push(
  {
    route: 'confirm',
    name: 'a confirm token signed 8 days ago',
    token: (seeds) => seeds.sign('confirm', seeds.pending, new Date(Date.now() - 8 * day)),
  },
  {
    route: 'confirm',
    name: 'a confirm token signed 7 days and a minute ago',
    token: (seeds) => seeds.sign('confirm', seeds.pending, new Date(Date.now() - 7 * day - 60_000)),
  },
);

interface BadBearer {
  name: string;
  token: (seeds: Seeds) => Promise<string> | string;
}
const badBearers: BadBearer[] = [
  ...badPageTokens
    .filter((bad) => bad.route === 'manage' && !bad.name.startsWith('garbage'))
    .map(({ name, token }) => ({ name, token })),
  ...[...garbage.slice(0, 2), ['%00', '%00'], ['../', '../'], ['../../etc/passwd', '../../etc/passwd']].map(
    ([name = '', token = '']): BadBearer => ({ name: `garbage: ${name}`, token: () => token }),
  ),
];

describe('link tokens', () => {
  let app: TestApp;
  let seeds: Seeds;

  beforeAll(async () => {
    // Every row posts to rate-limited pages; the limit is not what is tested here.
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    const db = app.runtime.db;
    // Confirmation links name a subscription request of the subscriber.
    const sign = async (purpose: TokenPurpose, subscriber: Subscriber, at = new Date()) =>
      app.runtime.ctx.tokens.sign(
        purpose,
        purpose === 'confirm' ? await seedRequest(db, subscriber) : subscriber,
        at,
      );
    const doomed = await seedSubscriber(db, { email: 'deleted@example.org', status: 'pending' });
    const deleted = {
      confirm: await sign('confirm', doomed),
      manage: await sign('manage', doomed),
      unsubscribe: await sign('unsubscribe', doomed),
    };
    expect((await api(app, '/api/me', { method: 'DELETE', token: deleted.manage })).status).toBe(204);
    seeds = {
      pending: await seedSubscriber(db, {
        email: 'pending@example.org',
        status: 'pending',
        topics: ['diffusion'],
      }),
      active: await seedSubscriber(db, { email: 'active@example.org', topics: ['graph neural networks'] }),
      other: await seedSubscriber(db, { email: 'other@example.org', topics: ['quantization'] }),
      deleted,
      sign,
    };
  });
  afterAll(async () => {
    await app.close();
  });

  const pageRequests = (route: Route, token: string): [string, RequestInit][] => {
    const path = `${app.url}/${route}/${token}`;
    const form = (fields: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    switch (route) {
      case 'confirm':
        return [
          [path, {}],
          [path, { method: 'POST' }],
        ];
      case 'manage':
        return [
          [path, {}],
          [`${path}/export`, {}],
          [path, form({ action: 'save', topics: 'hijacked', sendHour: '3' })],
          [path, form({ action: 'unsubscribe' })],
          [path, form({ action: 'resubscribe' })],
          [path, form({ action: 'delete', confirmDelete: 'yes' })],
        ];
      case 'unsubscribe':
        return [
          [path, {}],
          [path, { method: 'POST' }],
          [path, form({ 'List-Unsubscribe': 'One-Click' })],
        ];
    }
  };

  it.each(badPageTokens)(
    '/$route with $name is a 404 page for GET and POST, and changes nothing',
    async (bad) => {
      const token = await bad.token(seeds);
      const before = await snapshotDb(app.runtime.db);

      for (const [url, init] of pageRequests(bad.route, token)) {
        const response = await fetch(url, { ...init, redirect: 'manual' });
        const what = `${init.method ?? 'GET'} ${url.slice(app.url.length, app.url.length + 80)}`;
        expect(response.status, what).toBe(404);
        expect(response.headers.get('content-type'), what).toMatch(/^text\/html/);
        expect(await response.text(), what).toContain('This link is not valid');
      }

      expect(await snapshotDb(app.runtime.db)).toEqual(before);
      expect(app.smtp.received).toHaveLength(0);
    },
  );

  it.each(badBearers)(
    '/api/me with $name as bearer is a 401 for every method, and changes nothing',
    async (bad) => {
      const token = await bad.token(seeds);
      const before = await snapshotDb(app.runtime.db);

      const requests = [
        api(app, '/api/me', { token }),
        api(app, '/api/me', { method: 'PATCH', token, body: { sendHour: 3, topics: ['hijacked'] } }),
        api(app, '/api/me', { method: 'DELETE', token }),
        api(app, '/api/me/export', { token }),
      ];
      for (const response of await Promise.all(requests)) {
        expect(response.status).toBe(401);
        expect(response.json).toMatchObject({ error: { code: 'unauthorized' } });
        expect(response.text).not.toContain('@example.org');
      }

      expect(await snapshotDb(app.runtime.db)).toEqual(before);
    },
  );

  it('/api/me without any credentials, or with another scheme, is a 401', async () => {
    const before = await snapshotDb(app.runtime.db);
    const manage = await seeds.sign('manage', seeds.active);
    const headerSets: Record<string, string>[] = [
      {},
      { authorization: manage },
      { authorization: `Basic ${manage}` },
    ];
    for (const headers of headerSets) {
      const response = await api(app, '/api/me', { headers });
      expect(response.status).toBe(401);
      expect(response.json).toMatchObject({ error: { code: 'unauthorized' } });
    }
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  describe('opening a genuine link changes nothing until its button is pressed (link scanners prefetch)', () => {
    const statusOf = (subscriber: Subscriber) =>
      app.runtime.db.value<string>(sql`select status from subscribers where id = ${subscriber.id}`);
    const eventCount = () => app.runtime.db.value<number>(sql`select count(*) from subscriber_events`);

    it('GET and HEAD of a confirm link leave the subscription pending', async () => {
      const path = `${app.url}/confirm/${await seeds.sign('confirm', seeds.pending)}`;
      const before = await snapshotDb(app.runtime.db);
      for (const method of ['GET', 'HEAD', 'GET']) {
        expect((await fetch(path, { method, redirect: 'manual' })).status).toBe(200);
      }
      expect(await statusOf(seeds.pending)).toBe('pending');
      expect(await eventCount()).toBe(0);
      expect(await snapshotDb(app.runtime.db)).toEqual(before);
    });

    it('a confirm link signed 6 days ago still opens', async () => {
      const path = `${app.url}/confirm/${await seeds.sign('confirm', seeds.pending, new Date(Date.now() - 6 * day))}`;
      const before = await snapshotDb(app.runtime.db);
      const response = await fetch(path);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('pending@example.org');
      expect(await snapshotDb(app.runtime.db)).toEqual(before);
    });

    it('GET and HEAD of an unsubscribe link leave the subscription active', async () => {
      const path = `${app.url}/unsubscribe/${await seeds.sign('unsubscribe', seeds.active)}`;
      const before = await snapshotDb(app.runtime.db);
      for (const method of ['GET', 'HEAD', 'GET']) {
        expect((await fetch(path, { method, redirect: 'manual' })).status).toBe(200);
      }
      expect(await statusOf(seeds.active)).toBe('active');
      expect(await eventCount()).toBe(0);
      expect(await snapshotDb(app.runtime.db)).toEqual(before);
    });

    it('GET of a manage link and of its export changes nothing', async () => {
      const token = await seeds.sign('manage', seeds.active);
      const before = await snapshotDb(app.runtime.db);
      expect((await fetch(`${app.url}/manage/${token}`)).status).toBe(200);
      const exported = await fetch(`${app.url}/manage/${token}/export`);
      expect(exported.status).toBe(200);
      expect(await exported.json()).toMatchObject({ subscriber: { email: 'active@example.org' } });
      expect(await snapshotDb(app.runtime.db)).toEqual(before);
    });
  });
});
