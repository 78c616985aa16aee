import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer as collect } from 'node:stream/consumers';
import DKIM from 'nodemailer/lib/dkim';
import MimeNode from 'nodemailer/lib/mime-node';
import { type Config, ConfigError } from '../config.js';
import { composeMessage, quotedPrintable, randomMessageId } from './mime.js';
import { createSmtpPool, parseSmtpSettings, SmtpSetupError } from './smtp-pool.js';

export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** A stable Message-ID (with angle brackets); generated when absent. */
  messageId?: string;
  /** A name for the outbox file, e.g. `confirmation`. */
  tag: string;
  /** `html` already quoted-printable encoded, when the caller has it (the digest's size budget). */
  encodedHtml?: Buffer;
}

export interface SendHooks {
  /**
   * Called just before the end-of-data dot, the byte that lets the server accept the message, is
   * written to the socket; the dot waits until the returned promise settles, and is never written if
   * it rejects (the send then fails). A crash before this call means the server cannot have accepted
   * the message; see docs/ARCHITECTURE.md (delivery).
   */
  beforeDataEnd?: () => unknown;
}

/** The SMTP server refused the message for good (5xx): retrying cannot help. */
export class PermanentDeliveryError extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

export interface Mailer {
  /** Resolves once the SMTP server (or the outbox) has accepted the message: "submitted", not "delivered". */
  send(email: OutgoingEmail, hooks?: SendHooks): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * 5xx answers to the message become PermanentDeliveryError; 4xx, connection errors and any failure to
 * set the connection up (TLS, EHLO, AUTH: the relay's problem, not the recipient's) stay retryable.
 */
function classify(error: unknown): unknown {
  if (error instanceof SmtpSetupError) return error;
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  if (typeof code === 'number' && code >= 500 && code < 600) {
    return new PermanentDeliveryError(code, (error as Error).message, { cause: error });
  }
  return error;
}

/**
 * Every email paperboy sends is written by a program: out-of-office and vacation replies (RFC 3834;
 * Exchange reads the second header) should not answer it.
 */
const automaticHeaders = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' };

const addressOf = (from: string) => /<([^>]+)>/.exec(from)?.[1] ?? from;

const pemCertificate = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A file a setting names, read at start: unreadable is a ConfigError naming the setting. */
function readSettingFile(setting: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${setting}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    ]);
  }
}

/** SMTP_TLS_CA_FILE: the PEM certificates it holds, or a ConfigError that says why there are none. */
function readCaCertificates(file: string): string[] {
  const problem = (text: string) => new ConfigError([`SMTP_TLS_CA_FILE: ${text}`]);
  const certificates = readSettingFile('SMTP_TLS_CA_FILE', file).match(pemCertificate) ?? [];
  if (certificates.length === 0)
    throw problem(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const [index, certificate] of certificates.entries()) {
    try {
      new X509Certificate(certificate);
    } catch {
      throw problem(`certificate ${index + 1} in ${file} does not parse`);
    }
  }
  return certificates;
}

/**
 * SMTP (pooled) when `SMTP_URL` is set; otherwise the outbox writes each message to `OUTBOX_DIR`.
 * Messages are composed and DKIM-signed here and sent as finished bytes through `smtp-pool.ts`.
 * Settings that only make sense when read (SMTP_URL's options, SMTP_TLS_CA_FILE, the DKIM key) are
 * checked here, at start: a ConfigError rather than a first failed send.
 */
export function createMailer(mail: Config['mail']): Mailer {
  const smtp = mail.smtpUrl
    ? parseSmtpSettings(mail.smtpUrl, mail.tlsCaFile ? readCaCertificates(mail.tlsCaFile) : undefined)
    : undefined;
  const signer =
    mail.dkim &&
    new DKIM({
      domainName: mail.dkim.domain,
      keySelector: mail.dkim.selector,
      privateKey: readSettingFile('DKIM_PRIVATE_KEY_FILE', mail.dkim.privateKeyFile),
    });
  const fromAddress = addressOf(mail.from);
  const addressLines = addressHeaderLines(mail.from, mail.replyTo);

  async function compose(email: OutgoingEmail): Promise<{ raw: Buffer; messageId: string }> {
    // Absent for lifecycle emails: a random one, as opaque as digests'.
    const messageId = email.messageId ?? randomMessageId(fromAddress);
    const raw = composeMessage({
      addressLines,
      to: email.to,
      subject: email.subject,
      messageId,
      date: new Date(),
      headers: { ...email.headers, ...automaticHeaders },
      text: email.text,
      html: email.encodedHtml ?? quotedPrintable(email.html),
    });
    return { raw: signer ? await collect(signer.sign(raw)) : raw, messageId };
  }

  if (smtp) {
    const pool = createSmtpPool(smtp, mail.maxConnections);
    return {
      async send(email, hooks) {
        const { raw, messageId } = await compose(email);
        try {
          await pool.send({ from: fromAddress, to: [email.to] }, raw, hooks?.beforeDataEnd);
          return { messageId };
        } catch (error) {
          throw classify(error);
        }
      },
      close: () => pool.close(),
    };
  }

  let sequence = 0;
  return {
    async send(email, hooks) {
      const { raw, messageId } = await compose(email);
      await hooks?.beforeDataEnd?.();
      // The files hold working confirm and manage links: owner only. A directory that already
      // exists keeps its mode (it may not be paperboy's); each file is new (`wx`), so gets 0600.
      mkdirSync(mail.outboxDir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const base = join(mail.outboxDir, `${stamp}-${process.pid}-${sequence++}-${email.tag}`);
      writeFileSync(`${base}.eml`, raw, { mode: 0o600, flag: 'wx' });
      writeFileSync(`${base}.html`, email.html, { mode: 0o600, flag: 'wx' });
      return { messageId };
    },
    close() {},
  };
}

/**
 * The From and Reply-To header lines, encoded by nodemailer once at start (a display name may need
 * quoting or RFC 2047 words), so that each message only copies them.
 */
function addressHeaderLines(from: string, replyTo: string): string {
  const node = new MimeNode('text/plain');
  node.setHeader('From', from);
  node.setHeader('Reply-To', replyTo);
  let isKept = false;
  let lines = '';
  for (const line of node.buildHeaders().split('\r\n')) {
    // A folded header goes on in lines that start with white space.
    if (!/^[ \t]/.test(line)) isKept = /^(From|Reply-To):/i.test(line);
    if (isKept) lines += `${line}\r\n`;
  }
  return lines;
}

/** A stable Message-ID for one digest, so a retried send carries the same id. */
export const messageIdFor = (from: string, local: string) =>
  `<${local}@${addressOf(from).split('@')[1] ?? 'localhost'}>`;
