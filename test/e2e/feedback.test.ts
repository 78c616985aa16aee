import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { startTestApp, type TestApp } from '../support/app.js';
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
import { hrefsOf, seedSamplePapers, sendDigestTo } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf, type ReceivedMail } from '../support/smtp-sink.js';

describe.skipIf(!hasChromium)(
  `feedback in a real browser${hasChromium ? '' : ' (skipped: no Chromium at /usr/bin/chromium)'}`,
  () => {
    const email = 'reader@example.org';
    let app: TestApp;
    let browser: Browser;
    let mail: ReceivedMail;
    let page: Page;

    beforeAll(async () => {
      [app, browser] = await Promise.all([
        startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1000' } }),
        launchBrowser(),
      ]);
      await seedSamplePapers(app.runtime.db);
      await seedSubscriber(app.runtime.db, { email, topics: ['diffusion'], maxPapers: 3 });
      ({ mail } = await sendDigestTo(app, email));
      page = await openPage(browser, phone);
    });
    afterAll(async () => {
      await page?.context().close();
      await browser?.close();
      await app?.close();
    });

    const feedbackRows = () => app.runtime.db.value<number>(sql`select count(*) from paper_feedback`);

    it('asks before recording, records with the button, and is undone from the manage page, on a phone', async () => {
      const [more] = hrefsOf(mail.parsed.html || '').filter((href) => href.includes('/feedback/'));
      if (!more) throw new Error('no feedback link in the digest');
      await page.goto(`${app.url}${pathOf(more)}`);
      expect(await headingOf(page)).toBe('More like this?');
      expect(await documentWidth(page)).toBeLessThanOrEqual(375);
      expect(await feedbackRows()).toBe(0);

      const given = await submitWith(page, page.getByRole('button', { name: 'More like this' }));
      expect(given.status()).toBe(200);
      expect(await headingOf(page)).toBe('Noted: more like this');
      expect(await feedbackRows()).toBe(1);

      await page.goto(`${app.url}${pathOf(linkIn(mail, `${app.config.http.publicUrl}/manage/`))}`);
      const list = page.locator('.feedback-list li');
      expect(await list.count()).toBe(1);
      expect(await visibleText(list.first())).toMatch(/^More like this\s/);
      expect(await documentWidth(page)).toBeLessThanOrEqual(375);
      const undone = await submitWith(page, list.first().getByRole('button', { name: /^Undo/ }));
      expect(undone.status()).toBe(200);
      expect(await visibleText(page.getByRole('status'))).toBe('Feedback taken back.');
      expect(await page.locator('.feedback-list li').count()).toBe(0);
      expect(await feedbackRows()).toBe(0);
    });
    it('adds papers I like from a chosen BibTeX file, and shows what became of each', async () => {
      const known = await app.runtime.db.get<{ arxivId: string; title: string }>(
        sql`select arxiv_id as "arxivId", title from papers order by id limit 1`,
      );
      if (!known) throw new Error('no paper');
      await page.goto(`${app.url}${pathOf(linkIn(mail, `${app.config.http.publicUrl}/manage/`))}`);
      await page.getByLabel('Or choose a BibTeX file').setInputFiles({
        name: 'library.bib',
        mimeType: 'text/plain',
        buffer: Buffer.from(
          `@article{mine, title = {Whatever}, eprint = {${known.arxivId}}, archivePrefix = {arXiv}}\n@book{other, title = {A Book}, isbn = {123}}\n`,
        ),
      });
      await expect.poll(() => page.getByLabel(/^Add papers/).inputValue()).toContain(known.arxivId);
      const added = await submitWith(page, page.getByRole('button', { name: 'Add papers' }));
      expect(added.status()).toBe(200);
      const results = page.locator('.liked-results li');
      expect(await results.allTextContents()).toEqual([
        'mine: added',
        expect.stringMatching(/^other: not found/),
      ]);
      expect(await visibleText(page.locator('#liked-papers .feedback-list li').first())).toContain(
        known.title,
      );
      expect(await documentWidth(page)).toBeLessThanOrEqual(375);
    });
  },
);
