import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import type { DigestStatus } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { observeDigestSend } from '../../src/metrics.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { hasChromium, launchBrowser, openPage } from '../support/browser.js';
import { seedSubscriber } from '../support/factories.js';

const adminToken = 'admin-token-for-tests-0123456789';
const samplePapers = JSON.parse(
  readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8'),
) as unknown[];
const dayMs = 24 * 3600_000;

/** The value of one sample line of Prometheus text, e.g. `paperboy_subscribers{status="active"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function seedDigest(
  db: Db,
  subscriberId: number,
  localDate: string,
  status: DigestStatus,
  plannedAt: Date,
) {
  await db.run(sql`
    insert into digests (subscriber_id, local_date, status, window_start, planned_at)
    values (${subscriberId}, ${localDate}, ${status}, ${new Date(plannedAt.getTime() - dayMs)}, ${plannedAt})`);
}

describe('operations: stats, queue dashboard and metrics', () => {
  let app: TestApp;
  const newestPlanning = new Date('2026-03-11T07:00:00.000Z');
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - dayMs).toISOString().slice(0, 10);

  beforeAll(async () => {
    // No workers: queued jobs stay where the test put them and no scheduler adds its own.
    app = await startTestApp({ env: { ADMIN_TOKEN: adminToken }, workers: false });
    const { db } = app.runtime;
    const statuses = ['pending', 'pending', 'active', 'active', 'active', 'unsubscribed', 'bounced'] as const;
    const seeded = [];
    for (const [index, status] of statuses.entries()) {
      seeded.push(await seedSubscriber(db, { email: `ops${index}@example.com`, status }));
    }
    const [first, second, third] = seeded.filter((subscriber) => subscriber.status === 'active');
    if (!first || !second || !third) throw new Error('seeding failed');
    const earlier = new Date('2026-03-10T07:00:00.000Z');
    await seedDigest(db, first.id, '2026-03-10', 'sent', earlier);
    await seedDigest(db, second.id, '2026-03-10', 'sent', earlier);
    await seedDigest(db, third.id, '2026-03-10', 'failed', earlier);
    await seedDigest(db, first.id, '2026-03-11', 'queued', newestPlanning);
    await seedDigest(db, second.id, '2026-03-11', 'skipped', newestPlanning);

    // An older failed run of the scheduled source, then a batch through the admin API.
    // Its dated runs: one date failed and then succeeded, the other is still missing.
    const failedAt = new Date(Date.now() - 3600_000);
    await db.run(sql`
      insert into ingest_runs (source, started_at, finished_at, status, error, date)
      values ('hf-daily', ${failedAt}, ${failedAt}, 'failed', 'HTTP 503', ${today}),
        ('hf-daily', ${failedAt}, ${failedAt}, 'ok', null, ${today}),
        ('hf-daily', ${failedAt}, ${failedAt}, 'failed', 'HTTP 503', ${yesterday})`);
    const batch = await api(app, '/api/admin/papers', { body: samplePapers.slice(0, 5), token: adminToken });
    expect(batch.json).toMatchObject({ inserted: 5, updated: 0 });
    // A paper first seen three days ago counts in the total, not in the last 24 hours.
    const threeDaysAgo = new Date(Date.now() - 3 * dayMs);
    await db.run(sql`
      insert into papers (arxiv_id, title, abstract, authors, categories, published_at, source,
        first_seen_at, updated_at)
      values ('2401.99999', 'An older paper', 'Seen a while ago.', ${JSON.stringify(['A. Author'])},
        ${JSON.stringify(['cs.LG'])}, ${threeDaysAgo}, 'api', ${threeDaysAgo}, ${threeDaysAgo})`);

    await app.runtime.ctx.enqueue('ingest', { source: 'hf-daily' });
    await app.runtime.ctx.enqueue('ingest', { source: 'arxiv:cs.LG' });
    await app.runtime.ctx.enqueue('send-digest', { digestId: 4 });
  });
  afterAll(async () => {
    await app.close();
  });

  describe('GET /api/admin/stats', () => {
    it('answers 401 without the admin token or with a wrong one', async () => {
      expect(await api(app, '/api/admin/stats')).toMatchObject({
        status: 401,
        json: { error: { code: 'unauthorized' } },
      });
      expect((await api(app, '/api/admin/stats', { token: `${adminToken}x` })).status).toBe(401);
      expect((await api(app, '/api/admin/stats', { token: 'wrong-token-0123456789' })).status).toBe(401);
    });

    it('counts subscribers, papers and digests by state, with the last ingest, tick and queue depths', async () => {
      const result = await api(app, '/api/admin/stats', { token: adminToken });
      expect(result.status).toBe(200);
      expect(result.json).toEqual({
        subscribers: { pending: 2, active: 3, unsubscribed: 1, bounced: 1, complained: 0 },
        papers: { total: 6, firstSeenLast24h: 5 },
        digests: { queued: 1, sending: 0, sent: 2, published: 0, failed: 1, skipped: 1 },
        lastIngest: {
          source: 'admin-api',
          finishedAt: expect.any(String),
          status: 'ok',
          inserted: 5,
          updated: 0,
          rejected: 0,
          error: null,
        },
        ingestSources: [
          {
            source: 'admin-api',
            lastSuccessAt: expect.any(String),
            failedDates: [],
            newestSubmissionAt: null,
          },
          {
            source: 'hf-daily',
            lastSuccessAt: expect.any(String),
            failedDates: [yesterday],
            newestSubmissionAt: null,
          },
        ],
        lastTick: { plannedAt: newestPlanning.toISOString() },
        queues: {
          mail: { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 },
          digests: { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 },
          send: { waiting: 1, active: 0, delayed: 0, failed: 0, completed: 0 },
          ingest: { waiting: 2, active: 0, delayed: 0, failed: 0, completed: 0 },
        },
      });
      const lastIngest = result.json.lastIngest as { finishedAt: string };
      expect(Date.now() - Date.parse(lastIngest.finishedAt)).toBeLessThan(60_000);
    });
  });

  describe('/admin/queues', () => {
    const dashboard = (path = '/admin/queues', headers: Record<string, string> = {}) =>
      fetch(`${app.url}${path}`, { headers, redirect: 'manual' });

    it('answers 401 without the admin token, with a wrong token or a forged cookie', async () => {
      expect((await dashboard()).status).toBe(401);
      expect((await dashboard('/admin/queues/api/queues')).status).toBe(401);
      expect(
        (await dashboard('/admin/queues', { authorization: 'Bearer wrong-token-0123456789' })).status,
      ).toBe(401);
      expect((await dashboard('/admin/queues?token=wrong-token-0123456789')).status).toBe(401);
      expect((await dashboard('/admin/queues', { cookie: `paperboy_admin=${adminToken}` })).status).toBe(401);
    });

    it('serves the bull-board page and API to a bearer token', async () => {
      const page = await dashboard('/admin/queues', { authorization: `Bearer ${adminToken}` });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(page.headers.get('x-powered-by')).toBeNull();
      const html = await page.text();
      // bull-board's page: its config island and our board title.
      expect(html).toContain('id="__UI_CONFIG__"');
      expect(html).toContain('"boardTitle":"paperboy"');
      expect(html).toContain('<base href="/admin/queues/"');

      const queues = await dashboard('/admin/queues/api/queues', { authorization: `Bearer ${adminToken}` });
      expect(queues.status).toBe(200);
      const body = (await queues.json()) as { queues: { name: string }[] };
      expect(body.queues.map((queue) => queue.name).sort()).toEqual(['digests', 'ingest', 'mail', 'send']);
    });

    it('trades ?token= for a 12-hour HttpOnly, SameSite=Strict session cookie on /admin and redirects without the token', async () => {
      const login = await dashboard(`/admin/queues/queue/send?token=${adminToken}&status=waiting`);
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe('/admin/queues/queue/send?status=waiting');
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/^paperboy_admin=[\w-]+;/);
      expect(setCookie).toMatch(/; HttpOnly/i);
      expect(setCookie).toMatch(/; SameSite=Strict/i);
      expect(setCookie).toMatch(/; Path=\/admin(;|$)/);
      expect(setCookie).toMatch(/; Max-Age=43200;/);
      // The cookie holds a random session id, never the token.
      expect(setCookie).not.toContain(adminToken);

      const cookie = setCookie.split(';')[0] ?? '';
      expect((await dashboard('/admin/queues', { cookie })).status).toBe(200);
      expect((await dashboard('/admin/queues/api/queues', { cookie })).status).toBe(200);
      // The dashboard session is not an admin API credential.
      expect((await api(app, '/api/admin/stats', { headers: { cookie } })).status).toBe(401);
    });

    it.skipIf(!hasChromium)(
      'renders in a browser under the security headers, with no CSP violation',
      async () => {
        const browser = await launchBrowser();
        try {
          const page = await openPage(browser);
          const violations: string[] = [];
          await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
          await page.addInitScript(() => {
            document.addEventListener('securitypolicyviolation', (event) => {
              (window as unknown as { reportViolation: (text: string) => void }).reportViolation(
                `${event.violatedDirective} ${event.blockedURI}`,
              );
            });
          });
          await page.goto(`${app.url}/admin/queues?token=${adminToken}`);
          expect(new URL(page.url()).search).toBe('');
          await page.getByRole('link', { name: 'ingest', exact: true }).first().waitFor();
          await page.goto(`${app.url}/admin/queues/queue/send/digest-4`);
          await page.getByText('send-digest').first().waitFor();
          expect(violations).toEqual([]);
        } finally {
          await browser.close();
        }
      },
    );
  });

  describe('GET /metrics', () => {
    it('serves Prometheus text without authentication: process metrics and state read at scrape time', async () => {
      const result = await api(app, '/metrics');
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = result.text;
      for (const name of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(sample(text, 'paperboy_subscribers{status="pending"}')).toBe(2);
      expect(sample(text, 'paperboy_subscribers{status="active"}')).toBe(3);
      expect(sample(text, 'paperboy_subscribers{status="unsubscribed"}')).toBe(1);
      expect(sample(text, 'paperboy_subscribers{status="bounced"}')).toBe(1);
      expect(sample(text, 'paperboy_subscribers{status="complained"}')).toBe(0);
      expect(sample(text, 'paperboy_digests{status="queued"}')).toBe(1);
      expect(sample(text, 'paperboy_digests{status="sent"}')).toBe(2);
      expect(sample(text, 'paperboy_digests{status="failed"}')).toBe(1);
      expect(sample(text, 'paperboy_digests{status="skipped"}')).toBe(1);
      expect(sample(text, 'paperboy_digests{status="sending"}')).toBe(0);
      expect(sample(text, 'paperboy_papers')).toBe(6);
      expect(sample(text, 'paperboy_digest_last_planned_timestamp_seconds')).toBe(
        newestPlanning.getTime() / 1000,
      );
      expect(sample(text, 'paperboy_queue_jobs{queue="ingest",state="waiting"}')).toBe(2);
      expect(sample(text, 'paperboy_queue_jobs{queue="send",state="waiting"}')).toBe(1);
      expect(sample(text, 'paperboy_queue_jobs{queue="mail",state="failed"}')).toBe(0);
      expect(sample(text, 'paperboy_ingest_runs{status="ok"}')).toBe(2);
      expect(sample(text, 'paperboy_ingest_runs{status="failed"}')).toBe(2);
      expect(sample(text, 'paperboy_ingest_last_run_papers{source="admin-api",result="inserted"}')).toBe(5);
      expect(sample(text, 'paperboy_ingest_last_run_papers{source="admin-api",result="rejected"}')).toBe(0);
      expect(sample(text, 'paperboy_ingest_last_run_papers{source="hf-daily",result="inserted"}')).toBe(0);
      expect(
        sample(text, 'paperboy_ingest_last_run_timestamp_seconds{source="hf-daily",status="failed"}'),
      ).toEqual(expect.any(Number));
      // Its age is `time() - paperboy_ingest_last_success_timestamp_seconds` in PromQL.
      const lastSuccess = sample(text, 'paperboy_ingest_last_success_timestamp_seconds{source="hf-daily"}');
      expect(Date.now() / 1000 - (lastSuccess ?? 0)).toBeCloseTo(3600, -2);
      expect(sample(text, 'paperboy_ingest_failed_dates{source="hf-daily"}')).toBe(1);
      expect(sample(text, 'paperboy_ingest_failed_dates{source="admin-api"}')).toBe(0);
      expect(text).toContain('# TYPE paperboy_digest_send_seconds histogram');
    });

    it('reflects changes at the next scrape and records observed send times in the histogram', async () => {
      const before = (await api(app, '/metrics')).text;
      const count = sample(before, 'paperboy_digest_send_seconds_count') ?? Number.NaN;
      const fast = sample(before, 'paperboy_digest_send_seconds_bucket{le="0.25"}') ?? Number.NaN;
      await seedSubscriber(app.runtime.db, { email: 'complained@example.com', status: 'complained' });
      observeDigestSend(0.2);
      observeDigestSend(3);

      const after = (await api(app, '/metrics')).text;
      expect(sample(after, 'paperboy_subscribers{status="complained"}')).toBe(1);
      expect(sample(after, 'paperboy_digest_send_seconds_count')).toBe(count + 2);
      expect(sample(after, 'paperboy_digest_send_seconds_bucket{le="0.25"}')).toBe(fast + 1);
    });
  });
});

describe('operations with ADMIN_TOKEN unset', () => {
  it('has no admin stats or dashboard (404) but still serves /metrics', async () => {
    const app = await startTestApp({ workers: false });
    try {
      expect(await api(app, '/api/admin/stats', { token: 'anything-at-all-0123' })).toMatchObject({
        status: 404,
        json: { error: { code: 'not_found' } },
      });
      expect((await api(app, '/api/admin/stats')).status).toBe(404);
      expect((await api(app, '/admin/queues', { token: 'anything-at-all-0123' })).status).toBe(404);
      expect((await api(app, '/admin/queues?token=anything-at-all-0123')).status).toBe(404);
      expect((await api(app, '/admin/queues/api/queues')).status).toBe(404);
      const metrics = await api(app, '/metrics');
      expect(metrics.status).toBe(200);
      expect(sample(metrics.text, 'paperboy_papers')).toBe(0);
    } finally {
      await app.close();
    }
  });
});
