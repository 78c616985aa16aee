import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { createEmailThrottle } from '../../src/queue/throttle.js';
import { defaultPreferences } from '../../src/subscribers/preferences.js';
import { insertRequest } from '../../src/subscribers/store.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { flat } from '../support/digest.js';
import { seedRequest, seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf } from '../support/smtp-sink.js';

// Issue 10: what a hostile review of the running service found, items 3–8. Each test here failed
// on the code before the fix.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const day = 86_400_000;

describe('mail-bombing one mailbox through many spellings', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts sub-addresses and Gmail dots as one mailbox, and stores the addresses as typed', async () => {
    const spellings = [
      ...Array.from({ length: 10 }, (_, i) => `victim+${i + 1}@example.org`),
      'victim@example.org',
    ];
    for (const email of spellings) {
      expect((await api(app, '/api/subscriptions', { body: { email } })).status).toBe(202);
    }
    const gmail = ['some.body@gmail.com', 'somebody@gmail.com', 'So.Me.Bo.Dy+x@googlemail.com'];
    for (const email of gmail) expect((await postForm(app, '/subscribe', { email })).status).toBe(202);

    await app.smtp.waitFor((mail) => mail.length >= 2);
    await sleep(1500); // a second email to either mailbox would be queued already
    const toVictim = app.smtp.received.filter((mail) => mail.envelopeTo[0]?.startsWith('victim'));
    const toGmail = app.smtp.received.filter((mail) => /gmail\.com$/.test(mail.envelopeTo[0] ?? ''));
    expect(toVictim).toHaveLength(1);
    expect(toGmail).toHaveLength(1);
    const stored = await app.runtime.db.column(sql`select email from subscribers order by id`);
    expect(stored).toEqual([
      ...spellings,
      'some.body@gmail.com',
      'somebody@gmail.com',
      'so.me.bo.dy+x@googlemail.com',
    ]);
  });

  it('caps confirmation emails to a mailbox at five a day, even when the 10-minute window has passed', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const claim = createEmailThrottle(redis, {
        prefix: `test-throttle-${Date.now()}`,
        secretKey: 'throttle-test-secret-0123456789abcdef',
        windowMs: 5,
      });
      const granted: boolean[] = [];
      for (let i = 0; i < 8; i++) {
        granted.push(await claim(`victim+${i}@example.org`));
        await sleep(15);
      }
      expect(granted).toEqual([true, true, true, true, true, false, false, false]);
      // Another mailbox is counted on its own.
      expect(await claim('someone-else@example.org')).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses an address whose domain carries a query, path, fragment or port, and stores nothing', async () => {
    const before = await snapshotDb(app.runtime.db);
    for (const email of [
      'user@example.com?subject=hi',
      'user@example.com/x',
      'user@example.com#x',
      'user@example.com:25',
    ]) {
      const response = await api(app, '/api/subscriptions', { body: { email } });
      expect({
        email,
        status: response.status,
        code: (response.json?.error as { code?: string })?.code,
      }).toEqual({
        email,
        status: 400,
        code: 'invalid_email',
      });
    }
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });
});

describe('cross-site form posts', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });

  it('refuses a subscribe form posted from another site with a 403 page, and stores and sends nothing', async () => {
    const before = await snapshotDb(app.runtime.db);
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' }, // another port or subdomain of the same site
      { origin: app.url.replace(/:\d+$/, ':1') },
      { origin: 'null' },
    ];
    for (const headers of crossSite) {
      const response = await post('/subscribe', { email: 'target@example.org' }, headers);
      expect({ headers, status: response.status }).toEqual({ headers, status: 403 });
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('sent from another website');
    }
    await sleep(300);
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
    expect(app.smtp.received).toHaveLength(0);
  });

  it('accepts the form from our own pages and from clients that are not browsers', async () => {
    const own: Record<string, string>[] = [
      { origin: app.config.http.publicUrl, 'sec-fetch-site': 'same-origin' },
      { origin: app.url },
      {},
    ];
    for (const [i, headers] of own.entries()) {
      const response = await post('/subscribe', { email: `own-${i}@example.org` }, headers);
      expect({ headers, status: response.status }).toEqual({ headers, status: 202 });
    }
  });

  it('refuses cross-site confirm and manage posts, and leaves the subscriber as it was', async () => {
    const pending = await seedSubscriber(app.runtime.db, {
      email: 'pending-x@example.org',
      status: 'pending',
    });
    const active = await seedSubscriber(app.runtime.db, { email: 'active-x@example.org', topics: ['mine'] });
    const { tokens } = app.runtime.ctx;
    const confirm = tokens.sign('confirm', await seedRequest(app.runtime.db, pending), new Date());
    const manage = tokens.sign('manage', active, new Date());
    const before = await snapshotDb(app.runtime.db);
    const evil = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    expect((await post(`/confirm/${confirm}`, {}, evil)).status).toBe(403);
    expect((await post(`/manage/${manage}`, { action: 'save', topics: 'hijacked' }, evil)).status).toBe(403);
    expect((await post(`/manage/${manage}`, { action: 'unsubscribe' }, evil)).status).toBe(403);
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('keeps the JSON API out of reach of other sites: forms are 415 and no CORS is granted', async () => {
    const asForm = await fetch(`${app.url}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: JSON.stringify({ email: 'cors@example.org' }),
    });
    expect(asForm.status).toBe(415);
    const preflight = await fetch(`${app.url}/api/subscriptions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('TRUST_PROXY behind one proxy', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ env: { TRUST_PROXY: '1', RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterEach(async () => {
    await app.close();
  });

  const subscribe = (i: number, forwardedFor: string) =>
    api(app, '/api/subscriptions', {
      body: { email: `proxied-${i}@example.org` },
      headers: { 'x-forwarded-for': forwardedFor },
    });

  it('limits by the address the proxy saw, whatever the client wrote before it', async () => {
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await subscribe(i, `198.51.100.${i}, 203.0.113.7`)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429, 429, 429, 429]);
    // Another client behind the same proxy has its own allowance.
    expect((await subscribe(99, '203.0.113.8')).status).toBe(202);
  });
});

describe('subscriptions others can tamper with', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await app.close();
  });
  const topicsOf = (email: string) =>
    app.runtime.db.column(
      sql`select t.query from subscriber_topics t join subscribers s on s.id = t.subscriber_id
        where s.email = ${email} order by t.position`,
    );
  const statusOf = (email: string) =>
    app.runtime.db.value(sql`select status from subscribers where email = ${email}`);

  it('confirms exactly what the link was sent for, whatever was posted for the address since', async () => {
    const email = 'owner@example.org';
    await api(app, '/api/subscriptions', {
      body: { email, topics: ['diffusion models'], sendHour: 6, timezone: 'Europe/Berlin' },
    });
    const confirmation = (await app.smtp.waitFor(() => app.smtp.to(email).length > 0)).find((mail) =>
      mail.envelopeTo.includes(email),
    );
    if (!confirmation) throw new Error('no confirmation email');
    expect(flat(confirmation.parsed.text ?? '')).toContain('daily at 06:00 (Europe/Berlin), up to 10 papers');
    const link = pathOf(linkIn(confirmation, `${app.config.http.publicUrl}/confirm/`));

    // Someone else posts other preferences for the same address (no email: the throttle holds).
    const attack = await api(app, '/api/subscriptions', {
      body: { email, topics: ['attacker topic'], sendHour: 3, frequency: 'weekly', maxPapers: 50 },
    });
    expect(attack.status).toBe(202);
    expect(await topicsOf(email)).toEqual(['diffusion models']);

    // The page shows what the button turns on: the owner's request, not the attacker's.
    const page = await (await fetch(`${app.url}${link}`)).text();
    expect(page).toContain(email);
    expect(page).toContain('diffusion models');
    expect(page).toContain('daily at 06:00 (Europe/Berlin), up to 10 papers');
    expect(page).not.toContain('attacker topic');

    expect((await fetch(`${app.url}${link}`, { method: 'POST' })).status).toBe(200);
    expect(await statusOf(email)).toBe('active');
    expect(await topicsOf(email)).toEqual(['diffusion models']);
    const row = await app.runtime.db.get(
      sql`select frequency, send_hour as "sendHour", timezone, max_papers as "maxPapers"
        from subscribers where email = ${email}`,
    );
    expect(row).toEqual({ frequency: 'daily', sendHour: 6, timezone: 'Europe/Berlin', maxPapers: 10 });
  });

  it('lets an older link activate only its own preferences, and a confirmed address kills the others', async () => {
    const pending = await seedSubscriber(app.runtime.db, {
      email: 'two-links@example.org',
      status: 'pending',
      topics: ['first choice'],
    });
    const { tokens } = app.runtime.ctx;
    const older = tokens.sign('confirm', await seedRequest(app.runtime.db, pending), new Date());
    const newer = tokens.sign(
      'confirm',
      await seedRequest(app.runtime.db, pending, { topics: ['second choice'], sendHour: 22 }),
      new Date(),
    );
    const olderPage = await (await fetch(`${app.url}/confirm/${older}`)).text();
    expect(olderPage).toContain('first choice');
    expect(olderPage).not.toContain('second choice');

    expect((await fetch(`${app.url}/confirm/${older}`, { method: 'POST' })).status).toBe(200);
    expect(await topicsOf(pending.email)).toEqual(['first choice']);
    // The other link named preferences the reader did not confirm: it no longer works.
    expect((await fetch(`${app.url}/confirm/${newer}`)).status).toBe(404);
    expect((await fetch(`${app.url}/confirm/${newer}`, { method: 'POST' })).status).toBe(404);
    expect(await topicsOf(pending.email)).toEqual(['first choice']);
    // The used link says so, and changes nothing.
    expect(await (await fetch(`${app.url}/confirm/${older}`)).text()).toContain('Already confirmed');
  });

  it('keeps the request whose email went, however many others arrive at once', async () => {
    // A burst of concurrent posts for one address: each stores a request before the throttle turns
    // its email down (and deletes it). None of them may push out the one whose email went.
    const pending = await seedSubscriber(app.runtime.db, {
      email: 'burst-owner@example.org',
      status: 'pending',
    });
    const emailed = await seedRequest(app.runtime.db, pending);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        insertRequest(app.runtime.db, pending.id, defaultPreferences, new Date()),
      ),
    );
    const ids = await app.runtime.db.column(
      sql`select id from subscription_requests where subscriber_id = ${pending.id} order by id`,
    );
    expect(ids).toContain(emailed.id);
  });

  it('leaves an unsubscribed address unsubscribed, with its own topics, until its inbox confirms', async () => {
    const gone = await seedSubscriber(app.runtime.db, {
      email: 'left@example.org',
      status: 'unsubscribed',
      topics: ['my old topic'],
    });
    const subscriberRow = () => app.runtime.db.get(sql`select * from subscribers where id = ${gone.id}`);
    const before = await subscriberRow();
    await api(app, '/api/subscriptions', { body: { email: gone.email, topics: ['chosen by someone else'] } });
    expect(await subscriberRow()).toEqual(before);
    expect(await topicsOf(gone.email)).toEqual(['my old topic']);

    const mail = (await app.smtp.waitFor(() => app.smtp.to(gone.email).length > 0)).find((received) =>
      received.envelopeTo.includes(gone.email),
    );
    if (!mail) throw new Error('no confirmation email');
    expect(mail.parsed.text).toContain('chosen by someone else');
    const link = pathOf(linkIn(mail, `${app.config.http.publicUrl}/confirm/`));
    expect(await (await fetch(`${app.url}${link}`)).text()).toContain('chosen by someone else');
    await fetch(`${app.url}${link}`, { method: 'POST' });
    expect(await statusOf(gone.email)).toBe('active');
    expect(await topicsOf(gone.email)).toEqual(['chosen by someone else']);
  });
});

describe('links that leak management', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers the one-click unsubscribe without a manage link', async () => {
    const reader = await seedSubscriber(app.runtime.db, { email: 'one-click@example.org' });
    const token = app.runtime.ctx.tokens.sign('unsubscribe', reader, new Date());
    const response = await fetch(`${app.url}/unsubscribe/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('You are unsubscribed');
    expect(body).not.toContain('/manage/');
  });

  it('sends no-store, no-referrer and noindex on every page and answer behind a token', async () => {
    const reader = await seedSubscriber(app.runtime.db, { email: 'headers@example.org' });
    const pending = await seedSubscriber(app.runtime.db, {
      email: 'headers-p@example.org',
      status: 'pending',
    });
    const { tokens } = app.runtime.ctx;
    const now = new Date();
    const request = await seedRequest(app.runtime.db, pending);
    const responses = await Promise.all([
      fetch(`${app.url}/confirm/${tokens.sign('confirm', request, now)}`),
      fetch(`${app.url}/manage/${tokens.sign('manage', reader, now)}`),
      fetch(`${app.url}/manage/${tokens.sign('manage', reader, now)}/export`),
      fetch(`${app.url}/unsubscribe/${tokens.sign('unsubscribe', reader, now)}`),
      fetch(`${app.url}/api/me`, {
        headers: { authorization: `Bearer ${tokens.sign('manage', reader, now)}` },
      }),
      fetch(`${app.url}/manage/not-a-token`),
    ]);
    for (const response of responses) {
      const { pathname } = new URL(response.url);
      expect({
        path: pathname.split('/')[1],
        cache: response.headers.get('cache-control'),
        referrer: response.headers.get('referrer-policy'),
        robots: response.headers.get('x-robots-tag'),
      }).toEqual({
        path: pathname.split('/')[1],
        cache: 'no-store',
        referrer: 'no-referrer',
        robots: 'noindex',
      });
    }
  });

  it('mails tokens that do not reveal row ids, and lets manage links expire after 90 days', async () => {
    for (let i = 0; i < 3; i++)
      await api(app, '/api/subscriptions', { body: { email: `count-${i}@example.org` } });
    const mails = await app.smtp.waitFor(
      () => app.smtp.received.filter((m) => m.envelopeTo[0]?.startsWith('count-')).length >= 3,
    );
    for (const mail of mails.filter((m) => m.envelopeTo[0]?.startsWith('count-'))) {
      const token = pathOf(linkIn(mail, `${app.config.http.publicUrl}/confirm/`)).split('/')[2] ?? '';
      expect(token).toMatch(/^c[A-Za-z0-9_-]{22}\./);
      expect(token).not.toMatch(/^c[0-9a-z]{1,11}\./);
    }
    const reader = await seedSubscriber(app.runtime.db, { email: 'expiring@example.org' });
    const old = app.runtime.ctx.tokens.sign('manage', reader, new Date(Date.now() - 91 * day));
    expect((await fetch(`${app.url}/manage/${old}`)).status).toBe(404);
    expect((await api(app, '/api/me', { token: old })).status).toBe(401);
    const recent = app.runtime.ctx.tokens.sign('manage', reader, new Date(Date.now() - 89 * day));
    expect((await fetch(`${app.url}/manage/${recent}`)).status).toBe(200);
  });
});
