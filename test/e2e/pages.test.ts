import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { upsertPapers } from '../../src/papers/store.js';
import type { TokenPurpose } from '../../src/subscribers/tokens.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import {
  documentWidth,
  hasChromium,
  headingOf,
  launchBrowser,
  openPage,
  phone,
  submitWith,
  visibleText,
} from '../support/browser.js';
import { linkIn, pathOf } from '../support/smtp-sink.js';

interface SubscriberRow {
  id: number;
  tokenSalt: string;
  status: string;
  frequency: string;
  weeklyDay: number;
  timezone: string;
  sendHour: number;
  maxPapers: number;
}

describe.skipIf(!hasChromium)(
  `pages in a real browser${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    let app: TestApp;
    let browser: Browser;
    const pages: Page[] = [];

    beforeAll(async () => {
      // The per-IP limit is not under test here and every request comes from 127.0.0.1.
      [app, browser] = await Promise.all([
        startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1000' } }),
        launchBrowser(),
      ]);
    });
    afterEach(async () => {
      await Promise.all(pages.splice(0).map((page) => page.context().close()));
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    async function newPage(options: Parameters<typeof openPage>[1] = {}) {
      const page = await openPage(browser, options);
      pages.push(page);
      return page;
    }

    const open = (page: Page, path: string) => page.goto(`${app.url}${path}`);

    const subscriberRow = (email: string) =>
      app.runtime.db.get<SubscriberRow>(
        sql`select id, token_salt as "tokenSalt", status, frequency, weekly_day as "weeklyDay", timezone,
                  send_hour as "sendHour", max_papers as "maxPapers"
           from subscribers where email = ${email}`,
      );

    const topicsOf = (email: string) =>
      app.runtime.db.column<string>(
        sql`select query from subscriber_topics join subscribers on subscribers.id = subscriber_id
             where email = ${email} order by position`,
      );

    /** A link token as the emails carry it, signed for the stored subscriber. */
    const tokenFor = async (purpose: TokenPurpose, email: string) => {
      const row = await subscriberRow(email);
      if (!row) throw new Error(`no subscriber ${email}`);
      // A confirmation link names the subscriber's newest subscription request.
      const requestId = (await app.runtime.db.value<number>(
        sql`select max(id) from subscription_requests where subscriber_id = ${row.id}`,
      )) as number;
      const subject = purpose === 'confirm' ? { id: requestId, tokenSalt: row.tokenSalt } : row;
      return app.runtime.ctx.tokens.sign(purpose, subject, new Date());
    };

    /** A confirmed subscriber, made over HTTP; resolves with their manage token. */
    async function activeSubscriber(email: string, topics: string[] = []) {
      expect((await api(app, '/api/subscriptions', { body: { email, topics } })).status).toBe(202);
      const confirmed = await fetch(`${app.url}/confirm/${await tokenFor('confirm', email)}`, {
        method: 'POST',
      });
      expect(confirmed.status).toBe(200);
      expect((await subscriberRow(email))?.status).toBe('active');
      return tokenFor('manage', email);
    }

    it('subscribes from the home page, confirms from the emailed link and reaches the manage page', async () => {
      const email = 'grace@example.org';
      const page = await newPage();
      await open(page, '/');
      expect(await headingOf(page)).toBe('New research papers on your topics, in your inbox');

      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Topics').fill('diffusion models\n\ncat:cs.LG quantization -survey\n');
      await page.getByRole('radio', { name: 'Weekly' }).check();
      const subscribed = await submitWith(page, page.getByRole('button', { name: 'Subscribe', exact: true }));
      expect(subscribed.status()).toBe(202);
      expect(await headingOf(page)).toBe('Check your inbox');
      expect(await subscriberRow(email)).toMatchObject({ status: 'pending', frequency: 'weekly' });
      expect(await topicsOf(email)).toEqual(['diffusion models', 'cat:cs.LG quantization -survey']);

      await app.smtp.waitFor(() => app.smtp.to(email).length >= 1);
      const confirmation = app.smtp.to(email)[0];
      if (!confirmation) throw new Error(`no email to ${email}`);
      expect(confirmation.parsed.subject).toBe('Confirm your paperboy subscription');
      const confirmLink = linkIn(confirmation, `${app.config.http.publicUrl}/confirm/`);

      // Opening the link only shows a button: mail scanners prefetch links.
      await open(page, pathOf(confirmLink));
      expect(await headingOf(page)).toBe('Confirm your subscription');
      const confirmText = await visibleText(page.locator('main'));
      expect(confirmText).toContain(email);
      // What the button turns on, shown before it.
      expect(confirmText).toContain('weekly on Mondays at 07:00 (UTC), up to 10 papers');
      expect(confirmText).toContain('cat:cs.LG quantization -survey');
      expect((await subscriberRow(email))?.status).toBe('pending');

      const confirmed = await submitWith(page, page.getByRole('button', { name: 'Confirm subscription' }));
      expect(confirmed.status()).toBe(200);
      expect(await headingOf(page)).toBe('You are subscribed');
      expect((await subscriberRow(email))?.status).toBe('active');

      // The manage link comes in the welcome email, built from PUBLIC_URL (not where the test server
      // listens); the page does not show it.
      expect(await page.getByRole('link', { name: 'Manage your subscription' }).count()).toBe(0);
      await app.smtp.waitFor(() => app.smtp.to(email).length >= 2);
      const welcome = app.smtp.to(email)[1];
      if (!welcome) throw new Error(`no welcome email to ${email}`);
      const manageLink = linkIn(welcome, `${app.config.http.publicUrl}/manage/`);
      expect(new URL(manageLink).origin).toBe(new URL(app.config.http.publicUrl).origin);
      expect(pathOf(manageLink)).toMatch(/^\/manage\//);
      await open(page, pathOf(manageLink));
      expect(await headingOf(page)).toBe('Your subscription');
      expect(await visibleText(page.locator('main'))).toContain('Active: digests are being sent.');
      expect(await page.getByLabel('Topics').inputValue()).toBe(
        'diffusion models\ncat:cs.LG quantization -survey',
      );
      expect(await page.getByRole('radio', { name: 'Weekly' }).isChecked()).toBe(true);
    });

    it('shows what is wrong and keeps the typed topics when the email address is invalid', async () => {
      const page = await newPage();
      await open(page, '/');
      await page.getByLabel('Email address').fill('not-an-address');
      await page.getByLabel('Topics').fill('graph neural networks');
      const rejected = await submitWith(page, page.getByRole('button', { name: 'Subscribe', exact: true }));
      expect(rejected.status()).toBe(400);
      expect(await visibleText(page.getByRole('alert'))).toMatch(/email/i);
      expect(await page.getByLabel('Email address').inputValue()).toBe('not-an-address');
      expect(await page.getByLabel('Topics').inputValue()).toBe('graph neural networks');
      expect(await subscriberRow('not-an-address')).toBeUndefined();
    });

    it('saves edited topics, frequency, day, hour, time zone and paper count from the manage page', async () => {
      const email = 'edsger@example.org';
      const manageToken = await activeSubscriber(email, ['diffusion models']);
      const page = await newPage();
      await open(page, `/manage/${manageToken}`);

      await page.getByLabel('Topics').fill('graph neural networks\n\n  "knowledge distillation"  \n');
      await page.getByRole('radio', { name: 'Weekly' }).check();
      await page.getByLabel('Weekly digest day').selectOption({ label: 'Friday' });
      await page.getByLabel('Send at').selectOption({ label: '06:00' });
      await page.getByLabel('Time zone').selectOption('Europe/Berlin');
      await page.getByLabel('Papers per email').fill('25');
      const saved = await submitWith(page, page.getByRole('button', { name: 'Save preferences' }));

      expect(saved.status()).toBe(200);
      expect(await visibleText(page.getByRole('status'))).toBe('Saved.');
      const me = await api(app, '/api/me', { token: manageToken });
      expect(me.json).toEqual({
        email,
        status: 'active',
        topics: ['graph neural networks', '"knowledge distillation"'],
        frequency: 'weekly',
        weeklyDay: 5,
        timezone: 'Europe/Berlin',
        sendHour: 6,
        maxPapers: 25,
        delivery: 'email',
        feedUrl: expect.stringMatching(/\/feeds\/r[\w.-]+\.atom$/),
        feedback: [],
        likedPapers: [],
      });
      // The page shows what was stored, so saving again changes nothing.
      expect(await page.getByLabel('Topics').inputValue()).toBe(
        'graph neural networks\n"knowledge distillation"',
      );
      expect(await page.getByLabel('Send at').inputValue()).toBe('6');
    });

    it('unsubscribes with the button on the manage page and offers to resubscribe', async () => {
      const email = 'barbara@example.org';
      const manageToken = await activeSubscriber(email);
      const page = await newPage();
      await open(page, `/manage/${manageToken}`);

      await submitWith(page, page.getByRole('button', { name: 'Unsubscribe', exact: true }));
      expect(await visibleText(page.getByRole('status'))).toBe(
        'You are unsubscribed. No more digests will be sent.',
      );
      expect(await visibleText(page.locator('main'))).toContain('Unsubscribed: nothing is being sent.');
      expect(await page.getByRole('button', { name: 'Resubscribe' }).isVisible()).toBe(true);
      expect((await subscriberRow(email))?.status).toBe('unsubscribed');
    });

    it('unsubscribes from the emailed unsubscribe link after a button press', async () => {
      const email = 'alan@example.org';
      await activeSubscriber(email);
      const page = await newPage();
      await open(page, `/unsubscribe/${await tokenFor('unsubscribe', email)}`);
      expect(await headingOf(page)).toBe('Unsubscribe');
      expect(await visibleText(page.locator('main'))).toContain(email);
      expect((await subscriberRow(email))?.status).toBe('active');

      const done = await submitWith(page, page.getByRole('button', { name: 'Unsubscribe', exact: true }));
      expect(done.status()).toBe(200);
      expect(await headingOf(page)).toBe('You are unsubscribed');
      expect(await visibleText(page.locator('main'))).toContain(`No more digests will be sent to ${email}.`);
      expect((await subscriberRow(email))?.status).toBe('unsubscribed');
    });

    it('fits a 375 px wide phone screen without sideways scrolling', async () => {
      const manageToken = await activeSubscriber('a.very.long.address.for.a.narrow.screen@example.org', [
        'cat:cs.LG quantization -survey "mixture of experts"',
      ]);
      const page = await newPage(phone);
      for (const path of ['/', `/manage/${manageToken}`]) {
        await open(page, path);
        expect(await documentWidth(page), `document width of ${path}`).toBeLessThanOrEqual(375);
      }
    });

    it("fills the hidden time zone from the browser's and stores it with the subscription", async () => {
      const email = 'kurt@example.org';
      const page = await newPage({ timezoneId: 'Europe/Berlin' });
      await open(page, '/');
      await expect.poll(() => page.locator('input[name="timezone"]').inputValue()).toBe('Europe/Berlin');

      await page.getByLabel('Email address').fill(email);
      await submitWith(page, page.getByRole('button', { name: 'Subscribe', exact: true }));
      expect(await headingOf(page)).toBe('Check your inbox');
      expect((await subscriberRow(email))?.timezone).toBe('Europe/Berlin');
    });

    it('subscribes without JavaScript, storing UTC as the time zone', async () => {
      const email = 'john@example.org';
      const page = await newPage({ javaScriptEnabled: false, timezoneId: 'Asia/Tokyo' });
      await open(page, '/');
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Topics').fill('speculative decoding');
      const subscribed = await submitWith(page, page.getByRole('button', { name: 'Subscribe', exact: true }));
      expect(subscribed.status()).toBe(202);
      expect(await headingOf(page)).toBe('Check your inbox');
      expect(await subscriberRow(email)).toMatchObject({
        status: 'pending',
        timezone: 'UTC',
        frequency: 'daily',
      });
      expect(await topicsOf(email)).toEqual(['speculative decoding']);
    });

    it('previews what each topic line would catch while typing, and shows syntax errors', async () => {
      const sample = JSON.parse(readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8'));
      await upsertPapers(app.runtime.db, parsePapersJson(sample, new Date()).records, 'file', new Date());
      // Previews answer from the previous index while the new papers are indexed in the background.
      await expect
        .poll(async () => (await api(app, '/api/topics/preview?q=diffusion&days=7')).json?.total)
        .toBeGreaterThan(0);
      const page = await newPage();
      await open(page, '/');
      const preview = page.locator('#topic-preview');
      expect(await preview.isHidden()).toBe(true);

      await page.getByLabel('Topics').fill('diffusion\n"unclosed');
      await expect.poll(() => preview.isVisible()).toBe(true);
      const items = preview.locator('li.preview-topic');
      await expect.poll(() => items.count()).toBe(2);
      expect(await items.nth(0).locator('.preview-count').textContent()).toMatch(
        /^ \d+ papers? in the last 7 days$/,
      );
      expect(await items.nth(0).locator('.preview-papers li').count()).toBeGreaterThan(0);
      expect(await items.nth(1).locator('.preview-error').textContent()).toMatch(/Unclosed quote/);
      expect(await items.nth(1).getAttribute('data-position')).toBe('0');

      await page.getByLabel('Topics').fill('');
      await expect.poll(() => preview.isHidden()).toBe(true);
    });

    it('shows the weekly day only for a weekly digest', async () => {
      const manageToken = await activeSubscriber('weekly-toggle@example.org', ['robotics']);
      const page = await newPage();
      await open(page, `/manage/${manageToken}`);
      const day = page.getByLabel('Weekly digest day');
      expect(await day.isVisible()).toBe(false);
      await page.getByLabel('Weekly', { exact: true }).check();
      await expect.poll(() => day.isVisible()).toBe(true);
    });
  },
);
