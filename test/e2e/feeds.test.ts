import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  documentWidth,
  hasChromium,
  launchBrowser,
  openPage,
  phone,
  submitWith,
} from '../support/browser.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';

describe.skipIf(!hasChromium)(
  `feeds from the pages, in a real browser${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    let app: TestApp;
    let browser: Browser;
    const pages: Page[] = [];

    beforeAll(async () => {
      [app, browser] = await Promise.all([
        startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1000' }, workers: false }),
        launchBrowser(),
      ]);
      await seedSamplePapers(app.runtime.db);
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

    it('offers each previewed topic as a feed on the home page', async () => {
      const page = await newPage(phone);
      await page.goto(`${app.url}/`);
      await page.getByLabel('Topics').fill('agent\n"unclosed');
      const follow = page.getByRole('link', { name: 'Follow “agent” as a feed' });
      await follow.waitFor();
      const href = (await follow.getAttribute('href')) ?? '';
      expect(href).toBe('/feeds/topic.atom?q=agent');
      // A line with an error gets no feed link.
      expect(await page.getByRole('link', { name: /Follow “"unclosed”/ }).count()).toBe(0);
      const response = await fetch(`${app.url}${href}`);
      expect(parseFeed(await response.text()).items.length).toBeGreaterThan(0);
      expect(await documentWidth(page)).toBeLessThanOrEqual(375);
    });

    it('gives a topic feed from the home page form without JavaScript', async () => {
      const page = await newPage({ javaScriptEnabled: false });
      await page.goto(`${app.url}/`);
      await page.getByLabel('Topic', { exact: true }).fill('diffusion');
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url().includes('/feeds/topic.atom')),
        page.getByRole('button', { name: 'Follow as a feed' }).click(),
      ]);
      expect(response.status()).toBe(200);
      expect(response.url()).toBe(`${app.url}/feeds/topic.atom?q=diffusion`);
      expect(parseFeed(await response.text()).title).toBe('paperboy: diffusion');
    });

    for (const colorScheme of ['light', 'dark'] as const) {
      it(`shows the reader's feed with a copy button and saves "feed only" (${colorScheme}, 375 px)`, async () => {
        const subscriber = await seedSubscriber(app.runtime.db, {
          email: `feed-${colorScheme}@example.org`,
          topics: ['agent'],
        });
        const token = app.runtime.ctx.tokens.sign('manage', subscriber, new Date());
        const context = await browser.newContext({ ...phone, colorScheme });
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
        const page = await context.newPage();
        pages.push(page);
        await page.goto(`${app.url}/manage/${token}`);

        const address = page.getByLabel(/Your feed/);
        const feedUrl = await address.inputValue();
        expect(feedUrl).toMatch(/\/feeds\/r[\w.-]+\.atom$/);
        await page.getByRole('button', { name: 'Copy' }).click();
        await expect.poll(() => page.getByRole('button', { name: /Copied|Press Ctrl\+C/ }).count()).toBe(1);
        expect(await documentWidth(page)).toBeLessThanOrEqual(375);
        await address.scrollIntoViewIfNeeded();
        // For a person to look at (docs/feeds/ has copies): not compared, a screenshot is not an assertion.
        await page.screenshot({ path: join(tmpdir(), `paperboy-manage-feed-375-${colorScheme}.png`) });

        await page.getByRole('radio', { name: 'To my feed only (no digest emails)' }).check();
        const saved = await submitWith(page, page.getByRole('button', { name: 'Save preferences' }));
        expect(saved.status()).toBe(200);
        const delivery = await app.runtime.db.value<string>(
          sql`select delivery from subscribers where id = ${subscriber.id}`,
        );
        expect(delivery).toBe('feed');
        expect(
          await page.getByRole('radio', { name: 'To my feed only (no digest emails)' }).isChecked(),
        ).toBe(true);
        const feed = await fetch(feedUrl.replace(app.config.http.publicUrl, app.url));
        expect(feed.status).toBe(200);
      });
    }
  },
);
