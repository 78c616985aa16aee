/**
 * Screenshots of every email kind, light and dark, on a 375 px phone and a 1280 px screen, into
 * docs/email/ (`npm run screenshots`). Each is cropped to one screen so the PNGs stay small.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileEmailTemplates } from '../src/email/templates.js';
import { launchBrowser, openPage } from '../test/support/browser.js';
import { renderEveryEmail } from '../test/support/emails.js';

const outDir = join(import.meta.dirname, '../docs/email');
const views = [
  { width: 375, height: 812 },
  { width: 1280, height: 800 },
] as const;
const schemes = ['light', 'dark'] as const;

const emails = renderEveryEmail(await compileEmailTemplates());
mkdirSync(outDir, { recursive: true });
const browser = await launchBrowser();
try {
  for (const view of views) {
    for (const scheme of schemes) {
      const page = await openPage(browser, { viewport: view, colorScheme: scheme });
      for (const email of emails) {
        await page.setContent(email.html);
        const path = join(outDir, `${email.kind}-${view.width}-${scheme}.png`);
        await page.screenshot({ path });
        console.log(path);
      }
      await page.context().close();
    }
  }
} finally {
  await browser.close();
}
