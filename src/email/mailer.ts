import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** A name for the outbox file, e.g. `confirmation`. */
  tag: string;
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

/** 5xx answers become PermanentDeliveryError; 4xx and connection errors stay as they are (retryable). */
function classify(error: unknown): unknown {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  if (typeof code === 'number' && code >= 500 && code < 600) {
    return new PermanentDeliveryError(code, (error as Error).message, { cause: error });
  }
  return error;
}

export interface Mailer {
  /** Resolves once the SMTP server (or the outbox) has accepted the message: "submitted", not "delivered". */
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
  close(): void;
}

/** SMTP (pooled) when `SMTP_URL` is set; otherwise the outbox writes each message to `OUTBOX_DIR`. */
export function createMailer(mail: Config['mail']): Mailer {
  const dkim = mail.dkim && {
    domainName: mail.dkim.domain,
    keySelector: mail.dkim.selector,
    privateKey: readFileSync(mail.dkim.privateKeyFile, 'utf8'),
  };
  const defaults = { from: mail.from, ...(dkim ? { dkim } : {}) };
  if (mail.smtpUrl) {
    const transport = nodemailer.createTransport(
      { url: mail.smtpUrl, pool: true, maxConnections: 5, ...defaults },
      defaults,
    );
    return {
      async send(email) {
        try {
          const info = await transport.sendMail(toMessage(email));
          return { messageId: info.messageId };
        } catch (error) {
          throw classify(error);
        }
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport(
    { streamTransport: true, buffer: true, newline: 'unix' },
    defaults,
  );
  let sequence = 0;
  return {
    async send(email) {
      const info = await transport.sendMail(toMessage(email));
      mkdirSync(mail.outboxDir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const base = join(mail.outboxDir, `${stamp}-${process.pid}-${sequence++}-${email.tag}`);
      writeFileSync(`${base}.eml`, info.message as Buffer);
      writeFileSync(`${base}.html`, email.html);
      return { messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}

function toMessage(email: OutgoingEmail) {
  return { to: email.to, subject: email.subject, html: email.html, text: email.text, headers: email.headers };
}
