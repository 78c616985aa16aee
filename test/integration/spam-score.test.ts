import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDigests } from '../../src/digests/plan-digests.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import type { ReceivedMail } from '../support/smtp-sink.js';

// Issue 11: SpamAssassin (Debian's package, default rules, local tests only: no network lookups)
// scores the digest and the confirmation email at most 0.5. Skipped, with the reason in its name, on a
// machine without `spamassassin` (`apt-get install spamassassin`).
const hasSpamAssassin = spawnSync('spamassassin', ['--version']).status === 0;
const maxScore = 0.5;

/**
 * Rules about the sites papers link to (their authors' project pages), not about paperboy's email:
 * `PDS_OTHER_BAD_TLD` fires on a `.top` project page in the sample papers. Their points are reported
 * but not held against the email.
 */
const contentRules = new Set(['PDS_OTHER_BAD_TLD']);

/** The rules that hit one raw message, with their points, as `spamassassin -t` reports them. */
function spamReport(raw: string): {
  score: number;
  hits: { rule: string; points: number }[];
  report: string;
} {
  const result = spawnSync('spamassassin', ['-L', '-t', '-x'], {
    input: raw,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = result.stdout ?? '';
  const start = output.indexOf('Content analysis details');
  if (start === -1) throw new Error(`no report from spamassassin: ${result.stderr}`);
  const report = output.slice(start);
  const hits = [...report.matchAll(/^\s*(-?\d+(?:\.\d+)?) ([A-Z0-9_]+) /gm)].map((match) => ({
    rule: match[2] as string,
    points: Number(match[1]),
  }));
  const score = hits.filter((hit) => !contentRules.has(hit.rule)).reduce((sum, hit) => sum + hit.points, 0);
  return { score: Math.round(score * 10) / 10, hits, report };
}

describe.skipIf(!hasSpamAssassin)(
  `SpamAssassin scores${hasSpamAssassin ? '' : ' (skipped: no spamassassin on this machine)'}`,
  () => {
    let app: TestApp;
    let confirmation: ReceivedMail;
    let digest: ReceivedMail;

    beforeAll(async () => {
      app = await startTestApp({
        env: {
          PUBLIC_URL: 'https://papers.example.org',
          MAIL_FROM: 'paperboy <digest@papers.example.org>',
          DIGEST_TICK_CRON: '0 0 1 1 *',
          INGEST_CRON: '0 0 1 1 *',
        },
      });
      await seedSamplePapers(app.runtime.db);
      await seedSubscriber(app.runtime.db, { email: 'reader@example.org', topics: ['diffusion', 'agents'] });
      await api(app, '/api/subscriptions', { body: { email: 'newcomer@example.org', topics: ['robotics'] } });
      await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
      const mail = await app.smtp.waitFor(
        () => app.smtp.to('reader@example.org').length > 0 && app.smtp.to('newcomer@example.org').length > 0,
      );
      digest = mail.find((m) => m.envelopeTo.includes('reader@example.org')) as ReceivedMail;
      confirmation = mail.find((m) => m.envelopeTo.includes('newcomer@example.org')) as ReceivedMail;
    }, 60_000);
    afterAll(async () => {
      await app?.close();
    });

    it(`scores a digest at most ${maxScore}`, () => {
      const { score, hits, report } = spamReport(digest.raw);
      expect(hits.length, report).toBeGreaterThan(0); // HTML_MESSAGE at least: the report was read
      expect(score, report).toBeLessThanOrEqual(maxScore);
    }, 120_000);

    it(`scores a confirmation email at most ${maxScore}`, () => {
      const { score, report } = spamReport(confirmation.raw);
      expect(score, report).toBeLessThanOrEqual(maxScore);
    }, 120_000);
  },
);
