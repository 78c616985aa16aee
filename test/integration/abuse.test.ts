import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Subscriber, SubscriberStatus } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf } from '../support/smtp-sink.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a client can observe of an answer, minus headers that differ per request (Date, RateLimit). */
async function observable(response: Response) {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    contentLength: response.headers.get('content-length'),
    location: response.headers.get('location'),
    body: await response.text(),
  };
}

describe('subscription requests cannot enumerate addresses or bomb a mailbox', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Bursts below exceed the per-IP limit on purpose; the per-address throttle is what is tested.
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers known and unknown addresses with byte-identical responses, from the API and the form', async () => {
    const statuses: SubscriberStatus[] = ['active', 'pending', 'unsubscribed', 'bounced', 'complained'];
    for (const status of statuses)
      await seedSubscriber(app.runtime.db, { email: `known-${status}@example.org`, status });
    const addresses = [
      ...statuses.map((status) => `known-${status}@example.org`),
      'unknown-1@example.org',
      'Unknown-2@Example.org',
    ];

    const fromApi = [];
    const fromForm = [];
    for (const email of addresses) {
      fromApi.push(
        await observable(
          await fetch(`${app.url}/api/subscriptions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, topics: ['diffusion models'] }),
            redirect: 'manual',
          }),
        ),
      );
      fromForm.push(
        await observable(await postForm(app, '/subscribe', { email, topics: 'diffusion models' })),
      );
    }

    expect(fromApi[0]).toMatchObject({ status: 202, body: '{"status":"pending_confirmation"}' });
    for (const answer of fromApi) expect(answer).toEqual(fromApi[0]);
    expect(fromForm[0]?.status).toBe(202);
    for (const answer of fromForm) expect(answer).toEqual(fromForm[0]);
  });

  it('sends an active subscriber a "manage your subscription" email and leaves their preferences alone', async () => {
    const reader = await seedSubscriber(app.runtime.db, {
      email: 'reader@example.org',
      topics: ['graph neural networks'],
      frequency: 'daily',
      timezone: 'Europe/Berlin',
      sendHour: 6,
      maxPapers: 5,
    });
    const before = await snapshotDb(app.runtime.db);

    const response = await api(app, '/api/subscriptions', {
      body: {
        email: 'Reader@Example.org',
        topics: ['somebody else chose this'],
        frequency: 'weekly',
        weeklyDay: 0,
        timezone: 'Pacific/Auckland',
        sendHour: 3,
        maxPapers: 50,
      },
    });
    expect(response.status).toBe(202);

    await app.smtp.waitFor(() => app.smtp.to(reader.email).length > 0);
    const [mail, ...more] = app.smtp.to(reader.email);
    if (!mail) throw new Error('no email reached the reader');
    expect(more).toHaveLength(0);
    expect(mail.parsed.subject).toBe('Your paperboy subscription');
    expect(mail.parsed.text).not.toContain('/confirm/');
    expect(await snapshotDb(app.runtime.db)).toEqual(before);

    // The email's link opens the reader's own, unchanged preferences.
    const managePath = pathOf(linkIn(mail, `${app.config.http.publicUrl}/manage/`));
    const me = await api(app, '/api/me', { token: managePath.replace('/manage/', '') });
    expect(me.json).toEqual({
      email: 'reader@example.org',
      status: 'active',
      topics: ['graph neural networks'],
      frequency: 'daily',
      weeklyDay: 1,
      timezone: 'Europe/Berlin',
      sendHour: 6,
      maxPapers: 5,
      delivery: 'email',
      feedUrl: expect.stringMatching(/\/feeds\/r[\w.-]+\.atom$/),
      feedback: [],
      likedPapers: [],
    });
  });

  it('sends at most one email per address however many requests arrive at once', async () => {
    const victim = 'victim@example.org';
    const spellings = [victim, 'VICTIM@example.org', 'victim@EXAMPLE.ORG', ' victim@example.org '];
    const burst = Array.from({ length: 30 }, (_, i) => {
      const email = spellings[i % spellings.length] ?? victim;
      return i % 2 === 0
        ? api(app, '/api/subscriptions', {
            body: { email: email.trim(), sendHour: i % 24, topics: [`topic ${i}`] },
          })
        : postForm(app, '/subscribe', {
            email,
            topics: `topic ${i}`,
            frequency: i % 4 === 1 ? 'weekly' : 'daily',
          });
    });
    const statuses = (await Promise.all(burst)).map((response) => response.status);
    expect(statuses).toEqual(Array(30).fill(202));

    await app.smtp.waitFor((received) => received.some((mail) => mail.envelopeTo.includes(victim)));
    // A second email, if any, would be queued already; give the worker time to deliver it.
    await sleep(1500);
    const sent = app.smtp.to(victim);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.parsed.subject).toBe('Confirm your paperboy subscription');

    // A later request within the window, whatever it asks for, sends nothing either.
    expect((await api(app, '/api/subscriptions', { body: { email: victim, maxPapers: 3 } })).status).toBe(
      202,
    );
    await sleep(500);
    expect(app.smtp.to(victim)).toHaveLength(1);
  });

  it('sets security headers on pages and on the API', async () => {
    const page = await fetch(`${app.url}/`);
    const json = await api(app, '/api/subscriptions', { body: { email: 'not an address' } });
    for (const headers of [page.headers, json.headers]) {
      expect(headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('x-powered-by')).toBeNull();
    }
  });
});

describe('per-IP rate limit on public writes', () => {
  const limit = 5;
  let app: TestApp;
  // A fresh app (and so a fresh Redis prefix) per test: each starts with a full allowance.
  beforeEach(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: String(limit) } });
  });
  afterEach(async () => {
    await app.close();
  });

  const subscribe = (i: number) =>
    api(app, '/api/subscriptions', { body: { email: `burst-${i}@example.org` } });

  it('answers 429 rate_limited to the API and the form once the limit is passed, and stores nothing', async () => {
    for (let i = 0; i < limit; i++) expect((await subscribe(i)).status).toBe(202);
    const before = await snapshotDb(app.runtime.db);

    const refused = await subscribe(limit);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: { code: 'rate_limited' } });
    const form = await postForm(app, '/subscribe', { email: 'burst-form@example.org' });
    expect(form.status).toBe(429);
    expect(form.headers.get('content-type')).toMatch(/^text\/html/);

    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('never limits the one-click unsubscribe, nor reading pages', async () => {
    const readers: Subscriber[] = [];
    for (let i = 0; i < 12; i++) {
      readers.push(await seedSubscriber(app.runtime.db, { email: `reader-${i}@example.org` }));
    }
    for (let i = 0; i <= limit; i++) await subscribe(i);
    expect((await subscribe(limit + 1)).status).toBe(429);

    // Mailbox providers send every one-click request from a handful of addresses.
    for (const reader of readers) {
      const token = app.runtime.ctx.tokens.sign('unsubscribe', reader, new Date());
      const response = await fetch(`${app.url}/unsubscribe/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
        redirect: 'manual',
      });
      expect(response.status).toBe(200);
      expect((await fetch(`${app.url}/unsubscribe/${token}`)).status).toBe(200);
    }
    const stillActive = await app.runtime.db.value<number>(
      sql`select count(*) from subscribers where email like 'reader-%' and status != 'unsubscribed'`,
    );
    expect(stillActive).toBe(0);
  });
});
