import SMTPConnection from 'nodemailer/lib/smtp-connection';

/**
 * A small pool of SMTP connections that can tell the moment a message becomes deliverable.
 *
 * The SMTP server accepts a message only after the end-of-data dot. paperboy records "handed over"
 * right before that dot is written to the socket (TLS or not), so after a crash it knows which
 * messages the server may have accepted (never send again) and which it cannot have (send again).
 * nodemailer's own pool reads the message ahead into buffers long before the dot, so it cannot
 * give that moment; its SMTPConnection, one message at a time, can.
 */

type Connection = SMTPConnection & { _socket?: { write: (...args: unknown[]) => boolean } | false | null };

interface PooledConnection {
  connection: Connection;
  sent: number;
  isBroken: boolean;
  /** Runs (once) when the end-of-data dot of the current message is about to be written. */
  beforeDot?: () => void;
  wrappedSocket?: object;
}

const terminators = new Set(['.\r\n', '\n.\r\n', '\r\n.\r\n']);
const maxMessagesPerConnection = 100;

function connectionOptions(url: string) {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    auth: parsed.username
      ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
      : undefined,
  };
}

export function createSmtpPool(url: string, maxConnections = 5) {
  const options = connectionOptions(url);
  const idle: PooledConnection[] = [];
  const waiting: ((pooled: PooledConnection | Error) => void)[] = [];
  let open = 0;
  let isClosed = false;

  const call = <T>(fn: (done: (error: Error | null, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as T))));

  async function connect(): Promise<PooledConnection> {
    const connection = new SMTPConnection({
      host: options.host,
      port: options.port,
      secure: options.secure,
      connectionTimeout: 30_000,
      socketTimeout: 60_000,
    }) as Connection;
    const pooled: PooledConnection = { connection, sent: 0, isBroken: false };
    // SMTPConnection reports connection failures as events, not through the connect callback.
    await new Promise<void>((resolve, reject) => {
      connection.once('error', reject);
      connection.connect(() => {
        connection.removeListener('error', reject);
        resolve();
      });
    });
    connection.on('error', () => {
      pooled.isBroken = true;
    });
    connection.on('end', () => {
      pooled.isBroken = true;
    });
    if (options.auth)
      await call<void>((done) =>
        connection.login(options.auth as { user: string; pass: string }, (error) => done(error)),
      );
    return pooled;
  }

  /** Wraps the current socket (plain, or TLS after STARTTLS) so the dot's write can be seen. */
  function watchDot(pooled: PooledConnection) {
    const socket = pooled.connection._socket;
    if (!socket || pooled.wrappedSocket === socket) return;
    const write = socket.write.bind(socket);
    socket.write = (chunk: unknown, ...rest: unknown[]) => {
      if (pooled.beforeDot && (typeof chunk === 'string' || Buffer.isBuffer(chunk)) && chunk.length <= 5) {
        if (terminators.has(chunk.toString())) {
          const hook = pooled.beforeDot;
          pooled.beforeDot = undefined;
          hook();
        }
      }
      return write(chunk, ...rest);
    };
    pooled.wrappedSocket = socket;
  }

  async function acquire(): Promise<PooledConnection> {
    while (idle.length > 0) {
      const pooled = idle.pop() as PooledConnection;
      if (!pooled.isBroken) return pooled;
      open--;
    }
    if (open < maxConnections) {
      open++;
      try {
        return await connect();
      } catch (error) {
        open--;
        throw error;
      }
    }
    const next = await new Promise<PooledConnection | Error>((resolve) => waiting.push(resolve));
    if (next instanceof Error) throw next;
    return next;
  }

  function release(pooled: PooledConnection) {
    const isSpent = pooled.isBroken || pooled.sent >= maxMessagesPerConnection || isClosed;
    if (isSpent) {
      pooled.connection.close();
      open--;
      const waiter = waiting.shift();
      if (waiter) acquire().then(waiter, waiter);
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter(pooled);
    else idle.push(pooled);
  }

  return {
    /** Sends one message; `beforeDot` runs synchronously just before the end-of-data dot is written. */
    async send(
      envelope: { from: string; to: string[] },
      message: Buffer,
      beforeDot?: () => void,
    ): Promise<void> {
      const pooled = await acquire();
      try {
        watchDot(pooled);
        pooled.beforeDot = beforeDot;
        await call<unknown>((done) =>
          pooled.connection.send(envelope, message, (error, info) => done(error, info)),
        );
        pooled.sent++;
      } catch (error) {
        pooled.isBroken = true;
        throw error;
      } finally {
        pooled.beforeDot = undefined;
        release(pooled);
      }
    },
    close() {
      isClosed = true;
      for (const pooled of idle.splice(0)) pooled.connection.quit();
      for (const waiter of waiting.splice(0)) waiter(new Error('SMTP pool closed'));
    },
  };
}
