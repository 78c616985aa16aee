import { afterEach, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { parseStoredPicks } from '../../src/digests/paper-rows.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { createLogger } from '../../src/log.js';
import { type Runtime, startRuntime } from '../../src/main/runtime.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { upsertPapers } from '../../src/papers/store.js';
import { startTestApp, type TestApp, testConfig } from '../support/app.js';
import { flat, paperTitlesOf } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { fixture } from '../support/feed-server.js';
import { type ReceivedMail, startSmtpSink } from '../support/smtp-sink.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const day = 86_400_000;

async function ingest(runtime: Runtime, fixtureName: string) {
  const now = runtime.ctx.clock();
  const records = parsePapersJson(JSON.parse(fixture(fixtureName)), now).records;
  await upsertPapers(runtime.db, records, 'hf-daily', now);
  return records;
}

/** Waits until none of the digests is queued or sending; returns their statuses by subscriber email. */
async function settle(runtime: Runtime, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const pending = () =>
    runtime.db.value<number>(sql`select count(*) from digests where status in ('queued', 'sending')`);
  while (((await pending()) ?? 0) > 0) {
    if (Date.now() > deadline) throw new Error('digests did not settle in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return runtime.db.all<{ email: string; status: string; localDate: string; error: string | null }>(
    sql`select s.email, d.status, d.local_date as "localDate", d.error from digests d join subscribers s on s.id = d.subscriber_id order by d.id`,
  );
}

/** The numbered paper titles of a digest's text part. */
const titlesIn = (mail: ReceivedMail) => paperTitlesOf(mail.parsed.html || '');

describe('digest delivery, end to end', () => {
  let app: TestApp;

  it('sends each subscriber exactly the papers their topics match, never a paper twice, and nothing to others', async () => {
    app = await startTestApp();
    cleanups.push(() => app.close());
    const { runtime, smtp } = app;
    const day1 = await ingest(runtime, 'hf-daily-papers-2026-03-10.json');
    const alice = await seedSubscriber(runtime.db, {
      email: 'alice@example.org',
      topics: ['diffusion'],
      maxPapers: 50,
    });
    await seedSubscriber(runtime.db, {
      email: 'bob@example.org',
      topics: ['"language agents" OR title:agent'],
      maxPapers: 50,
    });
    await seedSubscriber(runtime.db, { email: 'carol@example.org', topics: ['quantum chromodynamics'] });
    await seedSubscriber(runtime.db, { email: 'dave@example.org', status: 'pending', topics: ['diffusion'] });
    await seedSubscriber(runtime.db, {
      email: 'erin@example.org',
      status: 'unsubscribed',
      topics: ['diffusion'],
    });
    await seedSubscriber(runtime.db, { email: 'frank@example.org', topics: [], maxPapers: 3 });

    const first = await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } });
    expect(first.planned).toBe(4); // active subscribers only
    const statuses = await settle(runtime);
    expect(statuses.map((row) => [row.email, row.status])).toEqual([
      ['alice@example.org', 'sent'],
      ['bob@example.org', 'sent'],
      ['carol@example.org', 'skipped'],
      ['frank@example.org', 'sent'],
    ]);
    await smtp.waitFor((mail) => mail.length === 3);
    expect(smtp.to('carol@example.org')).toHaveLength(0);
    expect(smtp.to('dave@example.org')).toHaveLength(0);
    expect(smtp.to('erin@example.org')).toHaveLength(0);

    // Alice's email lists exactly the papers that mention diffusion, best (title hits) first.
    const expectedForAlice = day1
      .filter((paper) =>
        /\bdiffus(e|ed|es|ion|ions|ing|ive)?\b/i.test(
          `${paper.title} ${paper.abstract} ${(paper.aiKeywords ?? []).join(' ')}`,
        ),
      )
      .map((paper) => paper.title);
    const aliceTitles = titlesIn(smtp.to('alice@example.org')[0] as ReceivedMail);
    expect([...aliceTitles].sort()).toEqual([...expectedForAlice].sort());
    const firstNonTitleHit = aliceTitles.findIndex((title) => !/diffus/i.test(title));
    if (firstNonTitleHit >= 0)
      expect(aliceTitles.slice(firstNonTitleHit).every((title) => !/diffus/i.test(title))).toBe(true);

    // Frank has no topics: the three most upvoted papers.
    const byUpvotes = [...day1]
      .sort((x, y) => (y.upvotes ?? 0) - (x.upvotes ?? 0))
      .slice(0, 3)
      .map((paper) => paper.title);
    const frank = smtp.to('frank@example.org')[0] as ReceivedMail;
    expect(titlesIn(frank)).toEqual(byUpvotes);
    expect(flat(frank.parsed.text ?? '')).toMatch(/\d+ more papers?: http/);

    // Running the plan again the same day changes nothing and sends nothing.
    expect((await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } })).planned).toBe(0);

    // The next day brings new papers; nobody gets a paper twice.
    await ingest(runtime, 'hf-daily-papers-latest-limit30-2026-06-12.json');
    await planDigests({ ctx: runtime.ctx, input: { mode: 'all', at: new Date(Date.now() + day) } });
    await settle(runtime);
    for (const email of ['alice@example.org', 'bob@example.org', 'frank@example.org']) {
      const titles = smtp.to(email).flatMap(titlesIn);
      expect(new Set(titles).size, email).toBe(titles.length);
    }
    expect(titlesIn(smtp.to('frank@example.org')[1] as ReceivedMail)).toHaveLength(3);
    const alicePicks = await runtime.db.column<string>(
      sql`select picks from digests where subscriber_id = ${alice.id} and picks is not null`,
    );
    expect(alicePicks.flatMap(parseStoredPicks).length).toBe(
      smtp.to('alice@example.org').flatMap(titlesIn).length,
    );
  });

  it('sends one email per digest when two workers run the same plan at once', async () => {
    app = await startTestApp();
    cleanups.push(() => app.close());
    const second = await startRuntime(app.config, {
      http: false,
      workers: true,
      log: createLogger('silent'),
    });
    cleanups.push(() => second.close());
    await ingest(app.runtime, 'hf-daily-papers-2026-03-10.json');
    for (let i = 0; i < 40; i++)
      await seedSubscriber(app.runtime.db, { email: `reader${i}@example.org`, topics: [] });

    // Both processes plan the same tick concurrently, and each worker races for the jobs.
    const [a, b] = await Promise.all([
      planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } }),
      planDigests({ ctx: second.ctx, input: { mode: 'all' } }),
    ]);
    expect(a.planned + b.planned).toBe(40);
    await settle(app.runtime);
    await app.smtp.waitFor((mail) => mail.length >= 40);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(app.smtp.received).toHaveLength(40);
    for (let i = 0; i < 40; i++) expect(app.smtp.to(`reader${i}@example.org`)).toHaveLength(1);
  });
});

describe('digest delivery against a misbehaving SMTP server', () => {
  async function appWithSmtp(respond: NonNullable<Parameters<typeof startSmtpSink>[0]>['respond']) {
    const smtp = await startSmtpSink({ respond });
    const { config } = testConfig({ SMTP_URL: smtp.url });
    const clock = { now: new Date() };
    const runtime = await startRuntime(config, {
      http: false,
      workers: true,
      clock: () => clock.now,
      log: createLogger('silent'),
    });
    cleanups.push(async () => {
      await runtime.close();
      await smtp.close();
    });
    await ingest(runtime, 'hf-daily-papers-2026-03-10.json');
    return { smtp, runtime, clock };
  }

  it('retries a 421 and delivers one email', async () => {
    let attempts = 0;
    const { smtp, runtime } = await appWithSmtp(() =>
      ++attempts === 1 ? Object.assign(new Error('Try again later'), { responseCode: 421 }) : undefined,
    );
    await seedSubscriber(runtime.db, { email: 'patient@example.org' });
    await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } });
    expect((await settle(runtime, 30_000))[0]).toMatchObject({ status: 'sent' });
    expect(attempts).toBe(2);
    expect(smtp.to('patient@example.org')).toHaveLength(1);
  });

  it('fails a 550 without retrying, and marks the address bounced after three in a row', async () => {
    let attempts = 0;
    const { runtime, clock } = await appWithSmtp(() => {
      attempts++;
      return Object.assign(new Error('No such user'), { responseCode: 550 });
    });
    const gone = await seedSubscriber(runtime.db, { email: 'gone@example.org' });
    const laterDays = [
      'hf-daily-papers-latest-limit30-2026-06-12.json',
      'hf-daily-papers-latest-limit30-2026-07-31.json',
    ];
    for (let i = 0; i < 3; i++) {
      // A day later, with that day's new papers (a failed digest's window is offered again, but a
      // first digest only looks 24 hours back).
      if (i > 0) {
        clock.now = new Date(clock.now.getTime() + day);
        await ingest(runtime, laterDays[i - 1] as string);
      }
      await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } });
      const rows = await settle(runtime);
      expect(rows[i]).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/^hard bounce: .*No such user/),
      });
      expect(attempts).toBe(i + 1); // no retry
      const status = await runtime.db.value(sql`select status from subscribers where id = ${gone.id}`);
      expect(status).toBe(i < 2 ? 'active' : 'bounced');
    }
    // Bounced addresses are not planned any more.
    expect(
      (await planDigests({ ctx: runtime.ctx, input: { mode: 'all', at: new Date(Date.now() + 3 * day) } }))
        .planned,
    ).toBe(0);
  });
});
