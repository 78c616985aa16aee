import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDigests } from '../../src/digests/plan-digests.js';
import { digestHtmlBudget } from '../../src/email/render.js';
import { normalizePaper } from '../../src/papers/normalize.js';
import { upsertPapers } from '../../src/papers/store.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { cardsOf, rawHeader } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import type { ReceivedMail } from '../support/smtp-sink.js';

const publicUrl = 'https://papers.example.org';
const quietSchedules = { DIGEST_TICK_CRON: '0 0 1 1 *', INGEST_CRON: '0 0 1 1 *' };
/** Where Gmail clips a message (and hides its footer, with the unsubscribe link, behind "View entire message"). */
const gmailClip = 102 * 1024;

/** The body of the message's text/html part exactly as it went over the wire (still encoded). */
function encodedHtmlPart(mail: ReceivedMail): { encoding: string; body: string } {
  const start = mail.raw.indexOf('\r\nContent-Type: text/html');
  const bodyStart = mail.raw.indexOf('\r\n\r\n', start) + 4;
  const headers = mail.raw.slice(start, bodyStart);
  // The part ends at its multipart boundary, not at any line that starts with "--": an encoded line
  // may (a link token holds "-"), and cutting there would lose the footer.
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(mail.raw)?.[1] ?? '';
  const end = mail.raw.indexOf(`\r\n--${boundary}`, bodyStart);
  return {
    encoding: /\r\nContent-Transfer-Encoding: ([^\r\n]+)/i.exec(headers)?.[1] ?? '',
    body: mail.raw.slice(bodyStart, end),
  };
}

/** Quoted-printable → text; a sequence cut at the end of `encoded` is dropped. */
const decodeQuotedPrintable = (encoded: string) =>
  Buffer.from(
    encoded
      .replace(/=\r\n/g, '')
      .replace(/=[0-9A-F]?$/, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

/** Every allowance from 20 to 50 papers: the counts just under the budget before encoding are the risky ones. */
const allowances = Array.from({ length: 31 }, (_, i) => 20 + i);
const readerFor = (maxPapers: number) => `reader-${maxPapers}@example.org`;

describe('digests of 50 long papers, as sent', () => {
  let app: TestApp;
  let mails: Map<number, ReceivedMail>;

  beforeAll(async () => {
    app = await startTestApp({
      env: { PUBLIC_URL: publicUrl, MAIL_FROM: 'paperboy <digest@papers.example.org>', ...quietSchedules },
    });
    const sample = JSON.parse(
      readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8'),
    ) as { title: string; abstract: string }[];
    const at = (i: number) => sample[i % sample.length] as { title: string; abstract: string };
    const authors = Array.from(
      { length: 20 },
      (_, i) =>
        `Maximiliane-Alexandra ${['Oyelaran-Vasquez', 'Tchakounté-Nguyen', 'Søndergaard-Ishikawa'][i % 3]} ${i}`,
    );
    const now = new Date();
    const records = Array.from({ length: 50 }, (_, i) =>
      normalizePaper(
        {
          arxivId: `2603.${String(10000 + i)}`,
          // Long titles (every one matches the topic) and 1,500-character abstracts, no AI summary.
          title: `Mixture of Experts ${i}: ${at(i).title}: ${at(i + 1).title}`.slice(0, 240),
          abstract: `${at(i).abstract} ${at(i + 2).abstract} ${at(i + 4).abstract}`.slice(0, 1500),
          authors,
          publishedAt: now.toISOString(),
          upvotes: 100 + i,
          githubRepo: `https://github.com/some-long-organisation-name/a-rather-long-repository-name-${i}`,
          projectPage: `https://some-long-organisation-name.github.io/a-rather-long-project-page-${i}/`,
        },
        now,
      ),
    );
    expect(records.every((record) => record.abstract.length >= 1490 && record.title.length > 100)).toBe(true);
    await upsertPapers(app.runtime.db, records, 'hf-daily', now);
    for (const maxPapers of allowances) {
      await seedSubscriber(app.runtime.db, {
        email: readerFor(maxPapers),
        maxPapers,
        topics: [
          '"mixture of experts" OR "retrieval augmented generation" OR "speculative decoding" -survey',
        ],
      });
    }
    const planned = await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
    expect(planned.digestIds).toHaveLength(allowances.length);
    const received = await app.smtp.waitFor((all) => all.length >= allowances.length, 30_000);
    mails = new Map(
      allowances.map((maxPapers) => [
        maxPapers,
        received.find((mail) => mail.envelopeTo.includes(readerFor(maxPapers))) as ReceivedMail,
      ]),
    );
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('keeps the HTML part under 102 KB as encoded, with the unsubscribe link inside the first 102 KB', () => {
    for (const [maxPapers, mail] of mails) {
      const { encoding, body } = encodedHtmlPart(mail);
      expect(encoding).toBe('quoted-printable');
      const html = mail.parsed.html || '';
      const shown = cardsOf(html).length;
      if (maxPapers === 50) {
        console.log(
          `50 long papers: ${shown} cards, HTML ${(Buffer.byteLength(html) / 1024).toFixed(1)} KB, ` +
            `sent as ${(body.length / 1024).toFixed(1)} KB`,
        );
      }
      expect({ maxPapers, bytes: body.length <= digestHtmlBudget }).toEqual({ maxPapers, bytes: true });
      expect(body.length).toBeLessThan(gmailClip);
      const unsubscribeUrl = rawHeader(mail, 'List-Unsubscribe').slice(1, -1);
      expect(decodeQuotedPrintable(body.slice(0, gmailClip))).toContain(`href="${unsubscribeUrl}"`);
      // Fewer cards, the rest counted and linked, rather than a clipped footer.
      expect(shown).toBeGreaterThan(1);
      expect(shown).toBeLessThanOrEqual(maxPapers);
      if (shown < 50) expect(html).toContain(`${50 - shown} more paper`);
    }
    expect(cardsOf(mails.get(50)?.parsed.html || '').length).toBeLessThan(50);
  });
});
