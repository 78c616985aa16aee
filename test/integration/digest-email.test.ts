import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, openMigratedDatabase } from '../../src/db/client.js';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { storedDigestPicks } from '../../src/digests/paper-rows.js';
import { api, startTestApp, type TestApp, testConfig, testSecret } from '../support/app.js';
import {
  cardsOf,
  escapeHtml,
  rawHeader,
  seedSamplePapers,
  sendDigestTo,
  textBlocksOf,
} from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf, type ReceivedMail } from '../support/smtp-sink.js';

const publicUrl = 'https://papers.example.org';
// No scheduled tick or ingestion may fire during a test: the test plans the digests itself.
const quietSchedules = { DIGEST_TICK_CRON: '0 0 1 1 *', INGEST_CRON: '0 0 1 1 *' };

/** The titles a digest picked, in its order, as stored with it. */
const pickedTitles = async (app: TestApp, digestId: number) =>
  (await storedDigestPicks(app.runtime.db, digestId)).map((pick) => pick.paper.title);

describe('a digest sent over real SMTP', () => {
  const email = 'reader@example.org';
  const maxPapers = 4;
  let app: TestApp;
  let subscriber: Subscriber;
  let mail: ReceivedMail;
  let digestId: number;
  let titles: string[];

  beforeAll(async () => {
    app = await startTestApp({
      env: { PUBLIC_URL: publicUrl, MAIL_FROM: 'paperboy <digest@papers.example.org>', ...quietSchedules },
    });
    await seedSamplePapers(app.runtime.db);
    subscriber = await seedSubscriber(app.runtime.db, { email, topics: ['diffusion'], maxPapers });
    ({ mail, digestId } = await sendDigestTo(app, email));
    titles = await pickedTitles(app, digestId);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is multipart/alternative with a text and an HTML part and a stable Message-ID', async () => {
    expect(mail.envelopeTo).toEqual([email]);
    expect(rawHeader(mail, 'Content-Type')).toMatch(/^multipart\/alternative;/);
    expect(mail.raw).toMatch(/\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    expect(mail.raw).toMatch(/\r\nContent-Type: text\/html; charset=utf-8\r\n/);
    expect(mail.parsed.text).toBeTruthy();
    expect(mail.parsed.html).toBeTruthy();
    // Stable (derived from the digest) but opaque: row ids would tell how many digests exist.
    const messageId = `<digest.${app.runtime.ctx.tokens.opaque(`digest:${digestId}`)}@papers.example.org>`;
    expect(rawHeader(mail, 'Message-ID')).toBe(messageId);
    expect(messageId).not.toContain(`${digestId}.${subscriber.id}`);
    expect(
      await app.runtime.db.get(
        sql`select status, message_id as "messageId" from digests where id = ${digestId}`,
      ),
    ).toEqual({ status: 'sent', messageId });
  });

  it('carries List-Unsubscribe (one-click) and List-Id headers', () => {
    expect(rawHeader(mail, 'List-Unsubscribe')).toMatch(
      new RegExp(
        `^<${publicUrl.replaceAll('.', '\\.')}/unsubscribe/u[A-Za-z0-9_-]{22}\\.0\\.[A-Za-z0-9_-]{22}>$`,
      ),
    );
    expect(rawHeader(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(rawHeader(mail, 'List-Id')).toBe('paperboy digest <digest.papers.example.org>');
  });

  it('shows the first maxPapers picks and counts the rest', () => {
    expect(titles.length).toBeGreaterThan(maxPapers);
    const shown = titles.slice(0, maxPapers);
    const text = mail.parsed.text ?? '';
    const html = mail.parsed.html || '';
    // The text part is wrapped at 72 columns: a long title goes on over the card's indented lines.
    const unwrapped = text.replace(/\n {3}/g, ' ');
    for (const [i, block] of textBlocksOf(text).entries()) {
      expect(block.replace(/\n {3}/g, ' ')).toContain(`${i + 1}. ${shown[i]} `);
    }
    expect(textBlocksOf(text)).toHaveLength(maxPapers);
    expect(cardsOf(html)).toHaveLength(maxPapers);
    for (const title of shown) expect(html).toContain(escapeHtml(title));
    for (const title of titles.slice(maxPapers)) {
      expect(text).not.toContain(title);
      expect(html).not.toContain(escapeHtml(title));
    }
    const more = titles.length - maxPapers;
    expect(mail.parsed.subject).toBe(`${titles.length} new papers on diffusion`);
    expect(unwrapped.replace(/:\n/g, ': ')).toContain(
      `${more} more paper${more === 1 ? '' : 's'}: ${publicUrl}/digests/`,
    );
    expect(html).toContain(`${more} more paper${more === 1 ? '' : 's'} in the web version`);
  });

  it('has a web version with every picked paper, and answers 404 to a tampered or wrong token', async () => {
    const webPath = pathOf(linkIn(mail, `${publicUrl}/digests/`));
    const page = await fetch(`${app.url}${webPath}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(cardsOf(html)).toHaveLength(titles.length);
    for (const title of titles) expect(html).toContain(escapeHtml(title));
    expect(html).not.toContain('more paper');
    // Meant to be shared: it names no address and grants nothing.
    expect(html).not.toContain(email);
    expect(html).not.toContain('/manage/');
    expect(html).not.toContain('/unsubscribe/');
    expect(html).toContain('use the links in the email itself');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-robots-tag')).toBe('noindex');

    const token = webPath.slice('/digests/'.length);
    const { tokens } = app.runtime.ctx;
    const now = new Date();
    const wrong = {
      tampered: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      'a manage token': tokens.sign('manage', subscriber, now),
      'an unsubscribe token': tokens.sign('unsubscribe', subscriber, now),
      'another salt': tokens.sign('digest', { id: digestId, tokenSalt: 'some-other-salt' }, now),
      'another digest': tokens.sign('digest', { id: digestId + 1, tokenSalt: subscriber.tokenSalt }, now),
      'not a token': 'hello',
    };
    for (const [name, bad] of Object.entries(wrong)) {
      const response = await fetch(`${app.url}/digests/${bad}`);
      expect({ name, status: response.status }).toEqual({ name, status: 404 });
      const body = await response.text();
      expect(body).toContain('This link is not valid');
      expect(body).not.toContain(escapeHtml(titles[0] as string));
    }
  });

  it('unsubscribes in one click from the List-Unsubscribe URL', async () => {
    const unsubscribeUrl = rawHeader(mail, 'List-Unsubscribe').slice(1, -1);
    expect(linkIn(mail, `${publicUrl}/unsubscribe/`)).toBe(unsubscribeUrl);
    const response = await fetch(`${app.url}${pathOf(unsubscribeUrl)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(response.status).toBe(200);
    const manageToken = app.runtime.ctx.tokens.sign('manage', subscriber, new Date());
    expect((await api(app, '/api/me', { token: manageToken })).json).toMatchObject({
      status: 'unsubscribed',
    });
  });
});

describe('a DKIM-signed digest', () => {
  const domain = 'papers.example.org';
  const selector = 'pb2026';
  const email = 'signed@example.org';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyDir = mkdtempSync(join(tmpdir(), 'paperboy-dkim-'));
  const keyFile = join(keyDir, 'dkim.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const dnsRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
  const lookups: string[] = [];
  // DNS, replaced: only the selector record exists.
  const resolver = async (name: string, rrtype: string) => {
    lookups.push(`${rrtype} ${name}`);
    if (rrtype === 'TXT' && name === `${selector}._domainkey.${domain}`) return [[dnsRecord]];
    throw Object.assign(new Error(`no ${rrtype} record for ${name}`), { code: 'ENOTFOUND' });
  };

  let app: TestApp;
  let mail: ReceivedMail;
  beforeAll(async () => {
    app = await startTestApp({
      env: {
        PUBLIC_URL: publicUrl,
        MAIL_FROM: `paperboy <digest@${domain}>`,
        DKIM_DOMAIN: domain,
        DKIM_SELECTOR: selector,
        DKIM_PRIVATE_KEY_FILE: keyFile,
        ...quietSchedules,
      },
    });
    await seedSamplePapers(app.runtime.db);
    await seedSubscriber(app.runtime.db, { email, topics: ['reinforcement learning'] });
    ({ mail } = await sendDigestTo(app, email));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('passes DKIM verification against the published key', async () => {
    const result = await dkimVerify(Buffer.from(mail.raw), { resolver });
    expect(lookups).toContain(`TXT ${selector}._domainkey.${domain}`);
    expect(result.results).toHaveLength(1);
    expect(result.results[0]).toMatchObject({
      signingDomain: domain,
      selector,
      status: { result: 'pass' },
    });
  });

  it('signs both List-Unsubscribe headers, so changing one breaks the signature', async () => {
    const signature = rawHeader(mail, 'DKIM-Signature');
    const signed = (/(?:^|;)\s*h=([^;]+)/.exec(signature)?.[1] ?? '')
      .split(':')
      .map((name) => name.trim().toLowerCase());
    expect(signed).toEqual(
      expect.arrayContaining(['from', 'subject', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post']),
    );

    const unsubscribeUrl = rawHeader(mail, 'List-Unsubscribe');
    const forged = mail.raw.replace(unsubscribeUrl, '<https://attacker.example/unsubscribe/x>');
    expect(forged).not.toBe(mail.raw);
    const result = await dkimVerify(Buffer.from(forged), { resolver });
    expect(result.results[0]?.status.result).toBe('fail');
  });
});

describe('paperboy preview', () => {
  const bin = new URL('../../bin/paperboy.js', import.meta.url).pathname;
  const { config, dir } = testConfig();
  const email = 'preview@example.org';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const db = await openMigratedDatabase(config.database);
    try {
      await seedSamplePapers(db);
      await seedSubscriber(db, { email, topics: ['"Seiberg dualities"', 'ReToken'] });
    } finally {
      await db.close();
    }
  });

  const preview = (args: string[]) =>
    spawnSync(process.execPath, [bin, 'preview', ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        SECRET_KEY: testSecret,
        DATABASE_URL: config.database.url,
        OUTBOX_DIR: join(dir, 'outbox'),
        LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });

  const digestRows = async () => {
    const db = await openDatabase(config.database);
    try {
      return await db.value(sql`select count(*) from digests`);
    } finally {
      await db.close();
    }
  };

  it('writes the digest an address would get to a file, sending and storing nothing', async () => {
    const out = join(dir, 'preview.html');
    const result = preview([email, '--out', out]);
    expect(result.status).toBe(0);
    expect(result.stderr.trim()).toMatch(
      new RegExp(`^2 papers for ${email} \\(active\\); wrote ${out}: "2 new papers on .+"$`),
    );
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('>Learning to Trace Seiberg Dualities</a>');
    expect(html).toContain('>ReToken: One Token to Improve Vision-Language Models for Visual Retrieval</a>');
    expect(cardsOf(html)).toHaveLength(2);
    expect(html).not.toContain('Scale Space Diffusion');
    expect(await digestRows()).toBe(0);
    expect(existsSync(join(dir, 'outbox'))).toBe(false);
  });

  it('exits 1 with one line for an address that is not subscribed', () => {
    const out = join(dir, 'nobody.html');
    const result = preview(['nobody@example.org', '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'paperboy: No subscriber with the address nobody@example.org',
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
