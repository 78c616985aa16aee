import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** What the server knew about the session a command arrived in. */
export interface SessionFacts {
  /** The session was TLS (implicit, or upgraded by STARTTLS) when the command arrived. */
  isSecure: boolean;
  /** The name the client gave in EHLO/HELO. */
  ehloName: string;
  /** The TLS server name (SNI) the client asked for, if any. */
  servername?: string;
}

export interface ReceivedMail extends SessionFacts {
  envelopeTo: string[];
  raw: string;
  parsed: ParsedMail;
  /** `process.hrtime.bigint()` when the server read the end-of-data dot. */
  dataEndedAt: bigint;
}

const factsOf = (session: {
  secure: boolean;
  hostNameAppearsAs: string | false;
  servername?: string | false | null;
}): SessionFacts => ({
  isSecure: session.secure,
  ehloName: session.hostNameAppearsAs || '',
  servername: session.servername || undefined,
});

/**
 * A real SMTP server in-process that keeps what it accepts. `respond` can make it answer like a
 * flaky or hostile server (421, 550) for fault tests. Without `tls` it offers no STARTTLS; with it,
 * it offers STARTTLS (or speaks TLS from the first byte, `mode: 'implicit'`) with that certificate.
 */
export async function startSmtpSink(
  options: {
    respond?: (mail: { to: string[] }) => Error | undefined;
    /** Wait this long after the data before answering, like a busy server. */
    delayMs?: number;
    port?: number;
    tls?: { key: string; cert: string; mode?: 'starttls' | 'implicit' };
  } = {},
) {
  const received: ReceivedMail[] = [];
  /** Every MAIL FROM the server saw, accepted or not: proof of what went over the wire. */
  const envelopes: (SessionFacts & { from: string })[] = [];
  /** Server-side errors, such as a client hanging up during the TLS handshake. */
  const errors: Error[] = [];
  const waiters: (() => void)[] = [];
  const isImplicitTls = options.tls?.mode === 'implicit';
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: options.tls ? [] : ['STARTTLS'],
    ...(options.tls && { key: options.tls.key, cert: options.tls.cert, secure: isImplicitTls }),
    logger: false,
    onMailFrom(address, session, callback) {
      envelopes.push({ ...factsOf(session), from: address.address });
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const dataEndedAt = process.hrtime.bigint();
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        const failure = options.respond?.({ to });
        if (failure) return callback(failure);
        const raw = Buffer.concat(chunks).toString('utf8');
        const accept = () =>
          simpleParser(raw).then(
            (parsed) => {
              received.push({ envelopeTo: to, raw, parsed, dataEndedAt, ...factsOf(session) });
              for (const wake of waiters.splice(0)) wake();
              callback();
            },
            (error: Error) => callback(error),
          );
        if (options.delayMs) setTimeout(accept, options.delayMs);
        else void accept();
      });
    },
  });
  // Without a listener a failed TLS handshake, or a client killed mid-message (ECONNRESET), would be
  // an uncaught 'error' event.
  server.on('error', (error: Error) => errors.push(error));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  const scheme = isImplicitTls ? 'smtps' : 'smtp';

  return {
    url: `${scheme}://127.0.0.1:${port}`,
    /** The same server under another host name, e.g. `localhost` to match a certificate. */
    urlFor: (host: string) => `${scheme}://${host}:${port}`,
    received,
    envelopes,
    errors,
    /** Mail sent to one address, oldest first. */
    to: (address: string) => received.filter((mail) => mail.envelopeTo.includes(address)),
    /** Resolves when `predicate` holds for the mail received so far; rejects after `timeoutMs`. */
    async waitFor(predicate: (mail: ReceivedMail[]) => boolean, timeoutMs = 10_000): Promise<ReceivedMail[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`SMTP sink: condition not met after ${timeoutMs} ms (${received.length} received)`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>;

/** The first link in a mail's text part that starts with `prefix`. */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const text = mail.parsed.text ?? '';
  const link = text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in:\n${text}`);
  return link;
}

/** The path (and query) of a link, to follow it against the test server whatever PUBLIC_URL says. */
export const pathOf = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};
