import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storedDigestPicks } from '../../src/digests/paper-rows.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { upsertPapers } from '../../src/papers/store.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  documentWidth,
  hasChromium,
  launchBrowser,
  openPage,
  phone,
  visibleText,
} from '../support/browser.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf, type ReceivedMail } from '../support/smtp-sink.js';

/** Outside the repository: looked at by a person, never committed. */
const shotsDir = '/tmp/digest-shots';
const desktop = { viewport: { width: 1280, height: 900 } };

// Long unbroken words are what push a narrow layout sideways: a model name and a URL in the abstract.
const longWordPaper = {
  arxivId: '2607.99001',
  title:
    'HyperSparseMixtureOfExpertsDiffusionTransformerXL: Scaling Latent Diffusion to Gigapixel Images on One Node',
  abstract:
    'We train a latent diffusion model at https://github.com/some-organisation/a-very-long-repository-name-for-this-paper without tiling. It scales.',
  authors: [
    'Maximiliane-Alexandra Oyelaran-Vasquez',
    'Bartholomew Tchakounté-Nguyen',
    'Ingrid Søndergaard',
    'X. Y.',
  ],
  publishedAt: new Date().toISOString(),
  upvotes: 12,
  githubRepo: 'https://github.com/some-organisation/a-very-long-repository-name-for-this-paper',
};

describe.skipIf(!hasChromium)(
  `the digest in a real browser${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    const email = 'layout@example.org';
    const maxPapers = 5;
    let app: TestApp;
    let browser: Browser;
    let mail: ReceivedMail;
    let titles: string[];
    let emailFile: string;
    const tempDir = mkdtempSync(join(tmpdir(), 'paperboy-digest-layout-'));
    const pages: Page[] = [];

    beforeAll(async () => {
      mkdirSync(shotsDir, { recursive: true });
      [app, browser] = await Promise.all([
        startTestApp({ env: { DIGEST_TICK_CRON: '0 0 1 1 *', INGEST_CRON: '0 0 1 1 *' } }),
        launchBrowser(),
      ]);
      const now = new Date();
      await seedSamplePapers(app.runtime.db, now);
      await upsertPapers(app.runtime.db, parsePapersJson([longWordPaper], now).records, 'file', now);
      await seedSubscriber(app.runtime.db, { email, topics: ['diffusion'], maxPapers });
      const planned = await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
      [mail] = (await app.smtp.waitFor((received) => received.length === 1)) as [ReceivedMail];
      titles = (await storedDigestPicks(app.runtime.db, planned.digestIds[0] as number)).map(
        (pick) => pick.paper.title,
      );
      emailFile = join(tempDir, 'digest-email.html');
      writeFileSync(emailFile, mail.parsed.html || '');
    });
    afterEach(async () => {
      await Promise.all(pages.splice(0).map((page) => page.context().close()));
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      rmSync(tempDir, { recursive: true, force: true });
    });

    async function open(url: string, options: Parameters<typeof openPage>[1]) {
      const page = await openPage(browser, options);
      pages.push(page);
      const response = await page.goto(url);
      expect(response?.status() ?? 200).toBe(200);
      return page;
    }

    /** Every paper title is shown, readable and inside the viewport; nothing scrolls sideways. */
    async function expectFitting(page: Page, width: number, expected: string[]) {
      expect(await documentWidth(page)).toBeLessThanOrEqual(width);
      const links = page.locator('a.paper-title');
      expect(await links.count()).toBe(expected.length);
      for (const [i, title] of expected.entries()) {
        const link = links.nth(i);
        expect(await link.isVisible()).toBe(true);
        expect(await visibleText(link)).toBe(title);
        const box = await link.boundingBox();
        expect(box?.x).toBeGreaterThanOrEqual(0);
        expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(width);
      }
    }

    it('picked more papers than the email shows, one of them with long unbroken words', () => {
      expect(titles.length).toBeGreaterThan(maxPapers);
      expect(titles).toContain(longWordPaper.title);
    });

    it('lays out the web version on a 375 px phone without sideways scrolling', async () => {
      const page = await open(
        `${app.url}${pathOf(linkIn(mail, `${app.config.http.publicUrl}/digests/`))}`,
        phone,
      );
      await expectFitting(page, 375, titles);
      await page.screenshot({ path: join(shotsDir, 'web-375.png'), fullPage: true });
    });

    it('lays out the web version on a 1280 px screen in one centred column', async () => {
      const page = await open(
        `${app.url}${pathOf(linkIn(mail, `${app.config.http.publicUrl}/digests/`))}`,
        desktop,
      );
      await expectFitting(page, 1280, titles);
      const box = await page.locator('a.paper-title').first().boundingBox();
      // The body is 640 px wide: the column starts near (1280 - 640) / 2.
      expect(box?.x).toBeGreaterThan(300);
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThan(980);
      await page.screenshot({ path: join(shotsDir, 'web-1280.png'), fullPage: true });
    });

    it('lays out the email as received on a phone and on a desktop screen', async () => {
      const shown = titles.slice(0, maxPapers);
      for (const [name, options, width] of [
        ['email-375', phone, 375],
        ['email-1280', desktop, 1280],
      ] as const) {
        const page = await open(`file://${emailFile}`, options);
        await expectFitting(page, width, shown);
        expect(await visibleText(page.locator('body'))).toMatch(/\d+ more papers? in the web version →/);
        await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
      }
    });
  },
);
