import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelopeTo: string[];
  raw: string;
  parsed: ParsedMail;
}

/**
 * A real SMTP server in-process that keeps what it accepts. `respond` can make it answer like a
 * flaky or hostile server (421, 550) for fault tests.
 */
export async function startSmtpSink(
  options: {
    respond?: (mail: { to: string[] }) => Error | undefined;
    /** Wait this long after the data before answering, like a busy server. */
    delayMs?: number;
    port?: number;
  } = {},
) {
  const received: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        const failure = options.respond?.({ to });
        if (failure) return callback(failure);
        const raw = Buffer.concat(chunks).toString('utf8');
        const accept = () =>
          simpleParser(raw).then(
            (parsed) => {
              received.push({ envelopeTo: to, raw, parsed });
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
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };

  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
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
