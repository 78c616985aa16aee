import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { ConfigError } from '../config.js';

/**
 * A small pool of SMTP connections that can tell the moment a message becomes deliverable.
 *
 * The SMTP server accepts a message only after the end-of-data dot. paperboy records "handed over"
 * right before that dot is written to the socket (TLS or not), so after a crash it knows which
 * messages the server may have accepted (never send again) and which it cannot have (send again).
 * nodemailer's own pool reads the message ahead into buffers long before the dot, so it cannot
 * give that moment; its SMTPConnection, one message at a time, can.
 */

/**
 * Setting a connection up failed (connect, TLS, EHLO, AUTH): the relay's or the configuration's
 * problem, never the recipient's, so even a 5xx here (a refused STARTTLS or login) is retried, not
 * held against the subscriber. The message and `code` stay nodemailer's.
 */
export class SmtpSetupError extends Error {
  readonly code: unknown;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'SmtpSetupError';
    this.code = (cause as { code?: unknown } | null)?.code;
  }
}

type Connection = SMTPConnection & { _socket?: { write: (...args: unknown[]) => boolean } | false | null };

interface PooledConnection {
  connection: Connection;
  sent: number;
  isBroken: boolean;
  /** Runs (once) when the end-of-data dot of the current message is about to be written. */
  beforeDot?: () => unknown;
  wrappedSocket?: object;
}

const terminators = new Set(['.\r\n', '\n.\r\n', '\r\n.\r\n']);
const maxMessagesPerConnection = 100;

/** How to reach the relay: `SMTP_URL` with its query options, plus `SMTP_TLS_CA_FILE`'s certificates. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (`smtps:`); otherwise STARTTLS whenever the server offers it. */
  secure: boolean;
  /** Fail unless the session is TLS, rather than send in plain text when STARTTLS is not offered. */
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  /** The name given in EHLO; nodemailer's default is this machine's host name. */
  name?: string;
  tls: { rejectUnauthorized: boolean; servername?: string; minVersion?: TlsVersion; ca?: string[] };
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
}

const tlsVersions = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type TlsVersion = (typeof tlsVersions)[number];

const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const isEhloName = (value: string) => {
  const literal = /^\[(?:IPv6:)?([^\]]+)\]$/.exec(value);
  return literal ? isIP(literal[1] ?? '') !== 0 : hostnamePattern.test(value);
};

/** Each honoured query option (nodemailer's name for it) checks its value and applies it, or says what is wrong. */
const urlOptions: Record<string, (value: string, settings: SmtpSettings) => string | undefined> = {
  requireTLS: (value, settings) => asBoolean(value, (is) => (settings.requireTLS = is)),
  name: (value, settings) => {
    if (!isEhloName(value)) return 'must be a host name or an address literal such as [192.0.2.1]';
    settings.name = value;
  },
  'tls.rejectUnauthorized': (value, settings) =>
    asBoolean(value, (is) => (settings.tls.rejectUnauthorized = is)),
  'tls.servername': (value, settings) => {
    if (!hostnamePattern.test(value) || isIP(value) !== 0) return 'must be a host name';
    settings.tls.servername = value;
  },
  'tls.minVersion': (value, settings) => {
    if (!tlsVersions.includes(value as TlsVersion)) return `must be one of ${tlsVersions.join(', ')}`;
    settings.tls.minVersion = value as TlsVersion;
  },
  connectionTimeout: (value, settings) => asMilliseconds(value, (ms) => (settings.connectionTimeout = ms)),
  greetingTimeout: (value, settings) => asMilliseconds(value, (ms) => (settings.greetingTimeout = ms)),
  socketTimeout: (value, settings) => asMilliseconds(value, (ms) => (settings.socketTimeout = ms)),
};

/** nodemailer options paperboy does not take from the URL, and what to do instead. */
const refusedOptions: Record<string, string> = {
  ignoreTLS: 'paperboy always upgrades with STARTTLS when the server offers it',
  opportunisticTLS: 'a failed STARTTLS must not go on in plain text',
  secure: 'use an smtps:// URL for TLS from the first byte (port 465)',
  servername: 'use tls.servername',
  'tls.ca': 'use SMTP_TLS_CA_FILE',
  pool: 'paperboy keeps its own pool',
  maxConnections: 'SEND_CONCURRENCY sets the connections per process',
};

function asBoolean(value: string, apply: (is: boolean) => void): string | undefined {
  if (value !== 'true' && value !== 'false') return 'must be true or false';
  apply(value === 'true');
}

function asMilliseconds(value: string, apply: (ms: number) => void): string | undefined {
  const ms = /^\d{1,7}$/.test(value) ? Number(value) : 0;
  if (ms < 1000) return 'must be milliseconds between 1000 and 9999999';
  apply(ms);
}

function applyOption(key: string, value: string, settings: SmtpSettings): string | undefined {
  if (Object.hasOwn(urlOptions, key)) {
    const problem = urlOptions[key]?.(value, settings);
    return problem && `option ${key} ${problem}`;
  }
  if (Object.hasOwn(refusedOptions, key)) return `option ${key} is not supported: ${refusedOptions[key]}`;
  return `unknown option ${JSON.stringify(key)} (paperboy honours ${Object.keys(urlOptions).join(', ')})`;
}

/**
 * Reads `SMTP_URL` (and the CA certificates of `SMTP_TLS_CA_FILE`) into connection settings. Every
 * query option must be one paperboy honours, with a valid value: a misspelt or unsupported one
 * would otherwise be ignored in silence, and a TLS setting that is silently dropped is how mail ends
 * up unverified or in plain text. (nodemailer's `parseConnectionUrl` takes the same names but keeps
 * any key and coerces any value, so it is not used.) Throws a ConfigError listing every problem.
 */
export function parseSmtpSettings(url: string, ca?: string[]): SmtpSettings {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const settings: SmtpSettings = {
    // URL keeps IPv6 literals in brackets; sockets want the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    requireTLS: false,
    auth: parsed.username
      ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
      : undefined,
    // Said explicitly, so that NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn it off.
    tls: { rejectUnauthorized: true, ca },
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  };
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [key, value] of parsed.searchParams) {
    const problem = seen.has(key) ? `option ${key} is given twice` : applyOption(key, value, settings);
    if (problem) problems.push(problem);
    seen.add(key);
  }
  // Any TLS setting says the relay speaks TLS: then a session without it (STARTTLS not offered, or
  // stripped on the way) must fail rather than carry mail and credentials in plain text.
  const asksForTls = ca !== undefined || [...seen].some((key) => key.startsWith('tls.'));
  if (asksForTls && parsed.searchParams.get('requireTLS') === 'false')
    problems.push('option requireTLS=false contradicts the TLS settings (tls.* or SMTP_TLS_CA_FILE)');
  if (asksForTls) settings.requireTLS = true;
  if (ca !== undefined && !settings.tls.rejectUnauthorized)
    problems.push(
      'option tls.rejectUnauthorized=false contradicts SMTP_TLS_CA_FILE, which is there to verify the certificate',
    );
  // nodemailer would quietly switch to TLS here; smtp:// with STARTTLS on 465 would only time out.
  if (!secure && settings.port === 465)
    problems.push('port 465 speaks TLS from the first byte: use smtps://');
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `SMTP_URL: ${problem}`));
  return settings;
}

/**
 * A pool of up to `maxConnections` SMTP connections to the relay `settings` describe (see
 * `parseSmtpSettings`). Failures while setting a connection up (TLS, EHLO, AUTH) reject with
 * `SmtpSetupError`: they are the relay's or the configuration's, never the recipient's.
 */
export function createSmtpPool(settings: SmtpSettings, maxConnections = 5) {
  const { auth } = settings;
  const idle: PooledConnection[] = [];
  const waiting: ((pooled: PooledConnection | Error) => void)[] = [];
  let open = 0;
  let isClosed = false;

  const call = <T>(fn: (done: (error: Error | null, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as T))));

  async function connect(): Promise<PooledConnection> {
    const connection = new SMTPConnection({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTLS,
      name: settings.name,
      tls: settings.tls,
      connectionTimeout: settings.connectionTimeout,
      greetingTimeout: settings.greetingTimeout,
      socketTimeout: settings.socketTimeout,
    }) as Connection;
    const pooled: PooledConnection = { connection, sent: 0, isBroken: false };
    try {
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
      if (auth) await call<void>((done) => connection.login(auth, (error) => done(error)));
    } catch (error) {
      connection.close();
      throw new SmtpSetupError(error);
    }
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
          // The dot waits for the hook (a database write); nothing else is written meanwhile, as the
          // client waits for the server's answer to the dot. A failed hook ends the connection instead.
          new Promise((resolve) => resolve(hook())).then(
            () => write(chunk, ...rest),
            (error: unknown) => socket.destroy(error instanceof Error ? error : new Error(String(error))),
          );
          return true;
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
    /** Sends one message; the end-of-data dot is written once `beforeDot` has settled. */
    async send(
      envelope: { from: string; to: string[] },
      message: Buffer,
      beforeDot?: () => unknown,
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
