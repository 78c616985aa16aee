import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer as collect } from 'node:stream/consumers';
import DKIM from 'nodemailer/lib/dkim';
import MailComposer from 'nodemailer/lib/mail-composer';
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp';
import { type Config, ConfigError } from '../config.js';
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
 * The bytes a body takes on the wire as composed below: quoted-printable in 76-character lines, as
 * nodemailer writes it (`=` and every non-ASCII byte take three bytes, each soft line break three),
 * with line breaks as CRLF, which SMTP makes of our LFs. Gmail clips at 102 KB of this, not of the HTML.
 */
export function encodedBodyBytes(body: string): number {
  // Encoded and wrapped as MailComposer does (line breaks as they are), then each bare LF becomes CRLF.
  const encoded = wrapQuotedPrintable(encodeQuotedPrintable(body), 76);
  return encoded.length + (encoded.match(/(?<!\r)\n/g)?.length ?? 0);
}

/**
 * An upper bound of `encodedBodyBytes`, in one cheap pass: every byte that quoted-printable may escape
 * (`=`, non-ASCII, controls, white space before a line break) counted as three, a soft line break
 * every 73 bytes out, CRLF for every LF. Encoding 100 KB exactly costs about a millisecond per digest;
 * most digests are decided by this bound alone.
 */
export function encodedBodyBytesAtMost(body: string): number {
  const bytes = Buffer.from(body);
  let out = 0;
  let lineBreaks = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === 10) lineBreaks++;
    const isEscaped =
      byte === 61 ||
      byte >= 127 ||
      (byte < 32 && byte !== 10 && byte !== 13) ||
      ((byte === 32 || byte === 9) && (bytes[i + 1] === 10 || bytes[i + 1] === 13));
    out += isEscaped ? 3 : 1;
  }
  return out + 3 * Math.ceil(out / 73) + 2 * lineBreaks;
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
  const from = mail.from;
  const replyTo = mail.replyTo;

  async function compose(email: OutgoingEmail): Promise<{ raw: Buffer; messageId: string }> {
    const node = new MailComposer({
      // Saying so skips nodemailer's scan of the whole HTML to choose an encoding.
      textEncoding: 'quoted-printable',
      from,
      replyTo,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      headers: { ...email.headers, ...automaticHeaders },
      // Absent for lifecycle emails: nodemailer then makes a random one (UUID-like), as opaque as digests'.
      messageId: email.messageId,
    }).compile();
    const messageId = node.messageId();
    const built = await node.build();
    return { raw: signer ? await collect(signer.sign(built)) : built, messageId };
  }

  if (smtp) {
    const pool = createSmtpPool(smtp, mail.maxConnections);
    return {
      async send(email, hooks) {
        const { raw, messageId } = await compose(email);
        try {
          await pool.send({ from: addressOf(from), to: [email.to] }, raw, hooks?.beforeDataEnd);
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

/** A stable Message-ID for one digest, so a retried send carries the same id. */
export const messageIdFor = (from: string, local: string) =>
  `<${local}@${addressOf(from).split('@')[1] ?? 'localhost'}>`;
