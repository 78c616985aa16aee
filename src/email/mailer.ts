import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer as collect } from 'node:stream/consumers';
import DKIM from 'nodemailer/lib/dkim';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config.js';
import { createSmtpPool } from './smtp-pool.js';

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
   * Called synchronously just before the end-of-data dot, the byte that lets the server accept the
   * message, is written to the socket. A crash before this call means the server cannot have
   * accepted the message; see docs/ARCHITECTURE.md (delivery).
   */
  beforeDataEnd?: () => void;
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

/** 5xx answers become PermanentDeliveryError; 4xx and connection errors stay as they are (retryable). */
function classify(error: unknown): unknown {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  if (typeof code === 'number' && code >= 500 && code < 600) {
    return new PermanentDeliveryError(code, (error as Error).message, { cause: error });
  }
  return error;
}

const addressOf = (from: string) => /<([^>]+)>/.exec(from)?.[1] ?? from;

/**
 * SMTP (pooled) when `SMTP_URL` is set; otherwise the outbox writes each message to `OUTBOX_DIR`.
 * Messages are composed and DKIM-signed here and sent as finished bytes through `smtp-pool.ts`.
 */
export function createMailer(mail: Config['mail']): Mailer {
  const signer =
    mail.dkim &&
    new DKIM({
      domainName: mail.dkim.domain,
      keySelector: mail.dkim.selector,
      privateKey: readFileSync(mail.dkim.privateKeyFile, 'utf8'),
    });
  const from = mail.from;

  async function compose(email: OutgoingEmail): Promise<{ raw: Buffer; messageId: string }> {
    const node = new MailComposer({
      // Saying so skips nodemailer's scan of the whole HTML to choose an encoding.
      textEncoding: 'quoted-printable',
      from,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      headers: email.headers,
      messageId: email.messageId,
    }).compile();
    const messageId = node.messageId();
    const built = await node.build();
    return { raw: signer ? await collect(signer.sign(built)) : built, messageId };
  }

  if (mail.smtpUrl) {
    const pool = createSmtpPool(mail.smtpUrl, mail.maxConnections);
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
      hooks?.beforeDataEnd?.();
      mkdirSync(mail.outboxDir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const base = join(mail.outboxDir, `${stamp}-${process.pid}-${sequence++}-${email.tag}`);
      writeFileSync(`${base}.eml`, raw);
      writeFileSync(`${base}.html`, email.html);
      return { messageId };
    },
    close() {},
  };
}

/** A stable Message-ID for one digest, so a retried send carries the same id. */
export const messageIdFor = (from: string, local: string) =>
  `<${local}@${addressOf(from).split('@')[1] ?? 'localhost'}>`;
