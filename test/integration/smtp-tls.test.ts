import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { createMailer, type Mailer, PermanentDeliveryError } from '../../src/email/mailer.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { upsertPapers } from '../../src/papers/store.js';
import { api, startTestApp } from '../support/app.js';
import { seedSubscriber } from '../support/factories.js';
import { fixture } from '../support/feed-server.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { createTestPki, type TestPki } from '../support/tls.js';

/**
 * SMTP_URL's TLS options and SMTP_TLS_CA_FILE against a real SMTP server offering STARTTLS (or TLS
 * from the first byte) with certificates made at test time: a throwaway CA with a leaf for
 * `localhost`, and a self-signed one like a stock Postfix's "snakeoil".
 */

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki('localhost');
});
afterAll(() => pki.remove());

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sink(options: Parameters<typeof startSmtpSink>[0] = {}): Promise<SmtpSink> {
  const started = await startSmtpSink(options);
  cleanups.push(() => started.close());
  return started;
}

function mailerFor(env: Record<string, string>): Mailer {
  const mailer = createMailer(loadConfig(env).mail);
  cleanups.push(() => mailer.close());
  return mailer;
}

const email = (to: string) => ({
  to,
  subject: 'Hello over TLS',
  html: '<p>Hello</p>',
  text: 'Hello',
  tag: 'test',
});

/** Sends one message; returns when the end-of-data hook ran (process.hrtime), once per call. */
async function send(mailer: Mailer, to: string): Promise<bigint[]> {
  const hookCalls: bigint[] = [];
  await mailer.send(email(to), { beforeDataEnd: () => hookCalls.push(process.hrtime.bigint()) });
  return hookCalls;
}

/** The rejection of a send that must fail. */
async function failedSend(mailer: Mailer, to: string): Promise<Error> {
  const error = await mailer.send(email(to)).then(
    () => undefined,
    (rejection: Error) => rejection,
  );
  if (!error) throw new Error('the send was expected to fail');
  return error;
}

/** What a start-up with these settings refuses, problem by problem (none: it starts). */
function startupProblems(env: Record<string, string>): string[] {
  try {
    mailerFor(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('SMTP over TLS: certificates are verified by default', () => {
  it('fails against a self-signed STARTTLS server with a certificate error, delivers nothing, and retries', async () => {
    const server = await sink({ tls: pki.selfSigned });
    const mailer = mailerFor({ SMTP_URL: server.urlFor('localhost') });

    const error = await failedSend(mailer, 'reader@example.org');
    expect(error.message).toMatch(/self-signed certificate/);
    expect(error).not.toBeInstanceOf(PermanentDeliveryError); // a relay problem: retried, not a bounce
    expect(server.envelopes).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it('keeps verifying even with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment', async () => {
    const server = await sink({ tls: pki.selfSigned });
    const mailer = mailerFor({ SMTP_URL: server.urlFor('localhost') });
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      expect((await failedSend(mailer, 'reader@example.org')).message).toMatch(/self-signed certificate/);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
    expect(server.received).toEqual([]);
  });

  it('delivers over STARTTLS with ?tls.rejectUnauthorized=false, the end-of-data hook firing over TLS for each message', async () => {
    const server = await sink({ tls: pki.selfSigned });
    const mailer = mailerFor({ SMTP_URL: `${server.urlFor('localhost')}?tls.rejectUnauthorized=false` });

    // Two messages: the second reuses the pooled connection, already upgraded.
    const first = await send(mailer, 'one@example.org');
    const second = await send(mailer, 'two@example.org');

    expect(server.received.map((mail) => [mail.envelopeTo, mail.isSecure])).toEqual([
      [['one@example.org'], true],
      [['two@example.org'], true],
    ]);
    expect(server.envelopes.every((envelope) => envelope.isSecure)).toBe(true);
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    // The hook ran before the server read the dot: the moment exactly-once delivery records.
    expect(first[0]).toBeLessThan(server.received[0]?.dataEndedAt ?? 0n);
    expect(second[0]).toBeLessThan(server.received[1]?.dataEndedAt ?? 0n);
  });

  it('delivers over STARTTLS to a relay whose CA is in SMTP_TLS_CA_FILE, with verification on', async () => {
    const server = await sink({ tls: pki.leaf });
    const mailer = mailerFor({ SMTP_URL: server.urlFor('localhost'), SMTP_TLS_CA_FILE: pki.caFile });

    const hookCalls = await send(mailer, 'reader@example.org');
    expect(hookCalls).toHaveLength(1);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ isSecure: true, servername: 'localhost' });
  });

  it('still refuses, with SMTP_TLS_CA_FILE, a certificate that CA did not sign', async () => {
    const server = await sink({ tls: pki.selfSigned });
    const mailer = mailerFor({ SMTP_URL: server.urlFor('localhost'), SMTP_TLS_CA_FILE: pki.caFile });

    expect((await failedSend(mailer, 'reader@example.org')).message).toMatch(/self-signed certificate/);
    expect(server.received).toEqual([]);
  });

  it('delivers over smtps:// (TLS from the first byte) with SMTP_TLS_CA_FILE, the hook firing over TLS', async () => {
    const server = await sink({ tls: { ...pki.leaf, mode: 'implicit' } });
    expect(server.urlFor('localhost')).toMatch(/^smtps:/);
    const mailer = mailerFor({ SMTP_URL: server.urlFor('localhost'), SMTP_TLS_CA_FILE: pki.caFile });

    const hookCalls = await send(mailer, 'reader@example.org');
    expect(hookCalls).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ isSecure: true });
    expect(hookCalls[0]).toBeLessThan(server.received[0]?.dataEndedAt ?? 0n);
  });

  it('checks the certificate against tls.servername when connecting by address', async () => {
    const server = await sink({ tls: pki.leaf });
    // The certificate names localhost, not 127.0.0.1: by address alone the check fails.
    const byAddress = mailerFor({ SMTP_URL: server.url, SMTP_TLS_CA_FILE: pki.caFile });
    expect((await failedSend(byAddress, 'reader@example.org')).message).toMatch(
      /does not match certificate's altnames/,
    );
    expect(server.received).toEqual([]);

    const byName = mailerFor({
      SMTP_URL: `${server.url}?tls.servername=localhost`,
      SMTP_TLS_CA_FILE: pki.caFile,
    });
    await send(byName, 'reader@example.org');
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ isSecure: true, servername: 'localhost' });
  });

  it('says the EHLO name given by ?name=', async () => {
    const server = await sink({ tls: pki.leaf });
    const mailer = mailerFor({
      SMTP_URL: `${server.urlFor('localhost')}?name=ehlo.example.org`,
      SMTP_TLS_CA_FILE: pki.caFile,
    });
    await send(mailer, 'reader@example.org');
    expect(server.received[0]).toMatchObject({ isSecure: true, ehloName: 'ehlo.example.org' });
  });
});

describe('SMTP over TLS: never plain text once TLS is asked for', () => {
  it('fails with ?requireTLS=true against a server that offers no STARTTLS, before any envelope is sent', async () => {
    const server = await sink(); // STARTTLS disabled
    const mailer = mailerFor({ SMTP_URL: `${server.url}?requireTLS=true` });

    const error = await failedSend(mailer, 'reader@example.org');
    expect(error.message).toMatch(/STARTTLS/);
    // The server's 5xx to STARTTLS is the relay's problem, not the recipient's: retried, never a bounce.
    expect(error).not.toBeInstanceOf(PermanentDeliveryError);
    expect(server.envelopes).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it('requires TLS whenever SMTP_TLS_CA_FILE or a tls.* option is set', async () => {
    const server = await sink();
    const settings: Record<string, string>[] = [
      { SMTP_URL: server.urlFor('localhost'), SMTP_TLS_CA_FILE: pki.caFile },
      { SMTP_URL: `${server.urlFor('localhost')}?tls.rejectUnauthorized=false` },
      { SMTP_URL: `${server.url}?tls.servername=localhost` },
    ];
    for (const env of settings) {
      expect((await failedSend(mailerFor(env), 'reader@example.org')).message).toMatch(/STARTTLS/);
    }
    expect(server.envelopes).toEqual([]);
  });
});

describe("SMTP setup failures are the relay's, not the recipient's", () => {
  it('retries a login the server refuses with a 5xx instead of failing the message for good', async () => {
    const server = await sink(); // refuses AUTH outside TLS with 538
    const mailer = mailerFor({ SMTP_URL: server.url.replace('smtp://', 'smtp://paperboy:secret@') });

    const error = await failedSend(mailer, 'reader@example.org');
    expect(error).toMatchObject({ code: 'EAUTH' });
    // A permanent error would count towards bouncing the subscriber; a bad login is ours to fix.
    expect(error).not.toBeInstanceOf(PermanentDeliveryError);
    expect(server.envelopes).toEqual([]);
  });
});

describe('SMTP settings are checked at start-up', () => {
  it('accepts the options it honours', () => {
    expect(
      startupProblems({
        SMTP_URL:
          'smtp://relay.internal:25?requireTLS=true&name=mail.example.org&tls.servername=relay.example.org&tls.minVersion=TLSv1.3&connectionTimeout=5000&greetingTimeout=5000&socketTimeout=120000',
        SMTP_TLS_CA_FILE: pki.caFile,
      }),
    ).toEqual([]);
    expect(
      startupProblems({ SMTP_URL: 'smtps://user:pass@relay.internal?tls.rejectUnauthorized=false' }),
    ).toEqual([]);
  });

  it('refuses unknown, unsupported, repeated and malformed options, naming each, without the password', () => {
    const problems = startupProblems({
      SMTP_URL:
        'smtp://paperboy:s3cret@relay.internal:587?tls.rejectUnauthorised=false&requireTLS=yes&ignoreTLS=true&name=bad%20name&tls.servername=10.0.0.1&tls.minVersion=TLSv1.4&socketTimeout=5&requireTLS=true&tls.ca=x&secure=true',
    });
    expect(problems).toEqual([
      'SMTP_URL: unknown option "tls.rejectUnauthorised" (paperboy honours requireTLS, name, tls.rejectUnauthorized, tls.servername, tls.minVersion, connectionTimeout, greetingTimeout, socketTimeout)',
      'SMTP_URL: option requireTLS must be true or false',
      'SMTP_URL: option ignoreTLS is not supported: paperboy always upgrades with STARTTLS when the server offers it',
      'SMTP_URL: option name must be a host name or an address literal such as [192.0.2.1]',
      'SMTP_URL: option tls.servername must be a host name',
      'SMTP_URL: option tls.minVersion must be one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3',
      'SMTP_URL: option socketTimeout must be milliseconds between 1000 and 9999999',
      'SMTP_URL: option requireTLS is given twice',
      'SMTP_URL: option tls.ca is not supported: use SMTP_TLS_CA_FILE',
      'SMTP_URL: option secure is not supported: use an smtps:// URL for TLS from the first byte (port 465)',
    ]);
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('refuses TLS settings that contradict each other', () => {
    expect(
      startupProblems({
        SMTP_URL: 'smtp://relay.internal?tls.rejectUnauthorized=false',
        SMTP_TLS_CA_FILE: pki.caFile,
      }),
    ).toEqual([
      'SMTP_URL: option tls.rejectUnauthorized=false contradicts SMTP_TLS_CA_FILE, which is there to verify the certificate',
    ]);
    expect(
      startupProblems({ SMTP_URL: 'smtp://relay.internal?requireTLS=false&tls.servername=relay.internal' }),
    ).toEqual(['SMTP_URL: option requireTLS=false contradicts the TLS settings (tls.* or SMTP_TLS_CA_FILE)']);
  });

  it('refuses smtp:// on port 465, which speaks TLS from the first byte', () => {
    expect(startupProblems({ SMTP_URL: 'smtp://relay.internal:465' })).toEqual([
      'SMTP_URL: port 465 speaks TLS from the first byte: use smtps://',
    ]);
    expect(startupProblems({ SMTP_URL: 'smtps://relay.internal:465' })).toEqual([]);
  });

  it('refuses an SMTP_TLS_CA_FILE that cannot be read, holds no certificate, or without SMTP_URL', () => {
    const smtp = { SMTP_URL: 'smtp://relay.internal' };
    const missing = join(pki.dir, 'missing.pem');
    expect(startupProblems({ ...smtp, SMTP_TLS_CA_FILE: missing })).toEqual([
      `SMTP_TLS_CA_FILE: cannot read ${missing} (ENOENT)`,
    ]);
    expect(startupProblems({ ...smtp, SMTP_TLS_CA_FILE: pki.dir })).toEqual([
      `SMTP_TLS_CA_FILE: cannot read ${pki.dir} (EISDIR)`,
    ]);
    const keyOnly = join(pki.dir, 'key-only.pem');
    writeFileSync(keyOnly, pki.leaf.key);
    expect(startupProblems({ ...smtp, SMTP_TLS_CA_FILE: keyOnly })).toEqual([
      `SMTP_TLS_CA_FILE: ${keyOnly} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
    const garbled = join(pki.dir, 'garbled.pem');
    writeFileSync(
      garbled,
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
    );
    expect(startupProblems({ ...smtp, SMTP_TLS_CA_FILE: garbled })).toEqual([
      `SMTP_TLS_CA_FILE: certificate 1 in ${garbled} does not parse`,
    ]);
    expect(startupProblems({ SMTP_TLS_CA_FILE: pki.caFile })).toEqual([
      'SMTP_TLS_CA_FILE: set SMTP_URL too (the CA file is for the relay SMTP_URL names)',
    ]);
  });
});

describe('SMTP over TLS, end to end', () => {
  it('sends the confirmation email and a digest over verified STARTTLS, recording data_sent_at', async () => {
    const server = await sink({ tls: pki.leaf });
    const app = await startTestApp({
      env: { SMTP_URL: server.urlFor('localhost'), SMTP_TLS_CA_FILE: pki.caFile },
    });
    cleanups.push(() => app.close());
    const { runtime } = app;

    const subscribed = await api(app, '/api/subscriptions', { body: { email: 'newcomer@example.org' } });
    expect(subscribed.status).toBe(202);
    await server.waitFor((mail) => mail.length === 1);
    expect(server.received[0]).toMatchObject({ envelopeTo: ['newcomer@example.org'], isSecure: true });

    const now = runtime.ctx.clock();
    const records = parsePapersJson(JSON.parse(fixture('hf-daily-papers-2026-03-10.json')), now).records;
    await upsertPapers(runtime.db, records, 'hf-daily', now);
    await seedSubscriber(runtime.db, { email: 'reader@example.org', topics: ['diffusion'], maxPapers: 5 });
    expect((await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } })).planned).toBe(1);

    const [digestMail] = await server.waitFor((mail) => mail.length === 2).then((mail) => mail.slice(1));
    expect(digestMail).toMatchObject({ envelopeTo: ['reader@example.org'], isSecure: true });
    const digestRow = async () =>
      (await runtime.db.get(sql`select status, data_sent_at as "dataSentAt" from digests order by id`)) as {
        status: string;
        dataSentAt: number | null;
      };
    const deadline = Date.now() + 10_000;
    while ((await digestRow()).status !== 'sent' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const row = await digestRow();
    expect(row.status).toBe('sent');
    // Written by the end-of-data hook, which ran on the TLS socket.
    expect(row.dataSentAt).toEqual(expect.any(Number));
  });
});
