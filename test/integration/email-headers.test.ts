import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { cardsOf, rawHeader, seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf, type ReceivedMail } from '../support/smtp-sink.js';

const domain = 'papers.example.org';
const publicUrl = `https://${domain}`;
const replyTo = 'paperboy help <help@papers.example.org>';
const quietSchedules = { DIGEST_TICK_CRON: '0 0 1 1 *', INGEST_CRON: '0 0 1 1 *' };

/** The inbox preview text: MJML's hidden first element of the body. */
/** The hidden inbox preview line: the first hidden block of the body. */
const preheaderOf = (mail: ReceivedMail) =>
  /<body[^>]*>[\s\S]*?<div style="display:none;[^"]*">([^<]*)<\/div>/
    .exec(mail.parsed.html || '')?.[1]
    ?.trim() ?? '';

describe('the headers and preheader of every kind of email', () => {
  const selector = 'pb2026';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyDir = mkdtempSync(join(tmpdir(), 'paperboy-dkim-'));
  const keyFile = join(keyDir, 'dkim.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const dnsRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
  const resolver = async (name: string, rrtype: string) => {
    if (rrtype === 'TXT' && name === `${selector}._domainkey.${domain}`) return [[dnsRecord]];
    throw Object.assign(new Error(`no ${rrtype} record for ${name}`), { code: 'ENOTFOUND' });
  };

  let app: TestApp;
  const mails: Record<string, ReceivedMail> = {};
  const nextMailTo = async (address: string) => {
    const before = app.smtp.to(address).length;
    await app.smtp.waitFor(() => app.smtp.to(address).length > before);
    return app.smtp.to(address)[before] as ReceivedMail;
  };
  const digestTo = async (address: string) => {
    const arrived = nextMailTo(address);
    await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
    return arrived;
  };

  beforeAll(async () => {
    app = await startTestApp({
      env: {
        PUBLIC_URL: publicUrl,
        MAIL_FROM: `paperboy <digest@${domain}>`,
        REPLY_TO: replyTo,
        DKIM_DOMAIN: domain,
        DKIM_SELECTOR: selector,
        DKIM_PRIVATE_KEY_FILE: keyFile,
        ...quietSchedules,
      },
    });
    await seedSamplePapers(app.runtime.db);

    const confirmation = nextMailTo('new@example.org');
    expect((await api(app, '/api/subscriptions', { body: { email: 'new@example.org' } })).status).toBe(202);
    mails.confirmation = await confirmation;
    const other = nextMailTo('other@example.org');
    await api(app, '/api/subscriptions', { body: { email: 'other@example.org', topics: ['diffusion'] } });
    mails.otherConfirmation = await other;

    const welcome = nextMailTo('new@example.org');
    const confirmPath = pathOf(linkIn(mails.confirmation, `${publicUrl}/confirm/`));
    expect((await fetch(`${app.url}${confirmPath}`, { method: 'POST' })).status).toBe(200);
    mails.welcome = await welcome;

    // A mailbox gets one email per throttle window: "manage" goes to a reader seeded as active.
    await seedSubscriber(app.runtime.db, { email: 'active@example.org', topics: ['diffusion'] });
    const manage = nextMailTo('active@example.org');
    await api(app, '/api/subscriptions', { body: { email: 'active@example.org', topics: ['quantization'] } });
    mails.manage = await manage;

    // Two readers, one digest each: one paper only (no "next titles" to preview), and several.
    await app.runtime.db.run(sql`update subscribers set status = 'unsubscribed'`);
    await seedSubscriber(app.runtime.db, { email: 'one@example.org', topics: ['"Seiberg dualities"'] });
    mails.oneCardDigest = await digestTo('one@example.org');
    await seedSubscriber(app.runtime.db, { email: 'many@example.org', topics: ['diffusion'], maxPapers: 5 });
    mails.digest = await digestTo('many@example.org');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('sends Reply-To and the headers that stop auto-replies on every email', () => {
    expect(Object.keys(mails)).toHaveLength(6);
    for (const [kind, mail] of Object.entries(mails)) {
      const headers = {
        kind,
        replyTo: rawHeader(mail, 'Reply-To'),
        autoSubmitted: rawHeader(mail, 'Auto-Submitted'),
        autoResponseSuppress: rawHeader(mail, 'X-Auto-Response-Suppress'),
      };
      expect(headers).toEqual({
        kind,
        replyTo,
        autoSubmitted: 'auto-generated',
        autoResponseSuppress: 'All',
      });
    }
  });

  it('still passes DKIM, with Reply-To signed', async () => {
    for (const mail of [mails.confirmation, mails.digest] as ReceivedMail[]) {
      const result = await dkimVerify(Buffer.from(mail.raw), { resolver });
      expect(result.results[0]?.status.result).toBe('pass');
      const signed = (/(?:^|;)\s*h=([^;]+)/.exec(rawHeader(mail, 'DKIM-Signature'))?.[1] ?? '')
        .split(':')
        .map((name) => name.trim().toLowerCase());
      expect(signed).toContain('reply-to');
    }
  });

  it('gives lifecycle emails random Message-IDs: nothing sequential, no row id', () => {
    const ids = [mails.confirmation, mails.otherConfirmation, mails.welcome, mails.manage].map((mail) =>
      rawHeader(mail as ReceivedMail, 'Message-ID'),
    );
    for (const id of ids) {
      expect(id).toMatch(
        new RegExp(
          `^<[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@${domain.replaceAll('.', '\\.')}>$`,
        ),
      );
    }
    expect(new Set(ids).size).toBe(ids.length);
    // Digests' ids are an HMAC of the digest (digest-email.test.ts checks which one).
    expect(rawHeader(mails.digest as ReceivedMail, 'Message-ID')).toMatch(
      new RegExp(`^<digest\\.[A-Za-z0-9_-]{16,}@${domain.replaceAll('.', '\\.')}>$`),
    );
  });

  it('gives every email a preheader that says something the subject does not', () => {
    expect(cardsOf(mails.oneCardDigest?.parsed.html || '')).toHaveLength(1);
    const preheaders: Record<string, string> = {};
    for (const [kind, mail] of Object.entries(mails)) {
      const preheader = preheaderOf(mail);
      preheaders[kind] = preheader;
      const subject = mail.parsed.subject ?? '';
      expect({ kind, isEmpty: preheader === '' }).toEqual({ kind, isEmpty: false });
      expect({ kind, isSubject: subject.includes(preheader) || preheader.includes(subject) }).toEqual({
        kind,
        isSubject: false,
      });
    }
    expect(preheaders.confirmation).toContain('daily at');
    expect(preheaders.welcome).toContain('daily at');
    expect(preheaders.manage).toContain('active@example.org is already subscribed');
  });
});
