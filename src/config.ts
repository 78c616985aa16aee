import { isIP } from 'node:net';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseRedisUrl, type RedisTarget } from './queue/redis-url.js';

/** The only module that knows environment variable names. `loadConfig` is pure: env in, Config out. */

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());
// prefault, not default: the fallback goes through the schema's own transforms (zod 4).
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess(emptyToUndefined, schema.prefault(fallback as never));

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((url) => url.replace(/\/+$/, ''));

const cron = z.string().refine(
  (expression) => {
    try {
      CronExpressionParser.parse(expression);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be a cron expression such as "*/15 * * * *"' },
);

const sources = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((source) => source.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().regex(/^(hf-daily|arxiv:[A-Za-z-]+(\.[A-Za-z-]+)?(\+[A-Za-z-]+(\.[A-Za-z-]+)?)*)$/, {
        error: 'each source must be hf-daily or arxiv:<cat>[+<cat>…]',
      }),
    ),
  );

/**
 * TRUST_PROXY: how many proxies stand in front (`1`), or their addresses/CIDRs (`10.0.0.0/8,::1`, or
 * express's names loopback, linklocal, uniquelocal). Never `true`: express would then take the left-most
 * X-Forwarded-For entry, which the client writes.
 */
const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isProxyAddress = (entry: string) => {
  if (proxyNames.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
  return bits >= 0 && bits <= (family === 4 ? 32 : 128);
};
const trustProxy = z.string().transform((value, context): false | number | string[] => {
  const text = value.trim();
  if (text === 'false') return false;
  if (/^\d{1,2}$/.test(text)) return Number(text) === 0 ? false : Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  if (text !== 'true' && entries.every(isProxyAddress)) return entries;
  context.addIssue({
    code: 'custom',
    message:
      'must be the number of proxies in front (e.g. 1) or their addresses/CIDRs (e.g. 10.0.0.1,10.1.0.0/16); "true" would trust any X-Forwarded-For a client sends',
  });
  return z.NEVER;
});

/**
 * MAIL_FROM: one RFC 5322 mailbox, `address` or `Name <address>`, the name a phrase of words (Unicode
 * letters allowed) or a quoted string. No control, format or line/paragraph separator characters (VT,
 * NEL, U+2028…) and no unquoted specials such as `:` or `,`, which would make a malformed From header.
 */
const nameWord = /[\p{L}\p{N}\p{M}!#$%&'*+\-/=?^_`{|}~.]+/u.source;
const quotedName = /"(?:[^"\\\p{C}\p{Z}]| )*"/u.source;
const localAtom = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+/.source;
const domainLabel = /[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?/.source;
const addrSpec = `${localAtom}(?:\\.${localAtom})*@${domainLabel}(?:\\.${domainLabel})*`;
const mailbox = z
  .string()
  .regex(
    new RegExp(`^(?:${addrSpec}|(?:(?:${nameWord}(?: ${nameWord})*|${quotedName}) +)?<${addrSpec}>)$`, 'u'),
    'must be one mailbox: "Name <address@example.org>" or an address',
  );

const redisUrl = z.string().transform((url, context): RedisTarget => {
  const target = parseRedisUrl(url);
  if (typeof target !== 'string') return target;
  context.addIssue({ code: 'custom', message: target });
  return z.NEVER;
});

export type RedisConfig = RedisTarget & {
  /** Of every key paperboy and BullMQ write; carries a `{hash tag}` on a Redis Cluster. */
  prefix: string;
};

/** `{tag}` in the prefix: every key paperboy and BullMQ write then hashes to the same cluster slot. */
const hasHashTag = (prefix: string) => /\{[^{}]+\}/.test(prefix);

const envSchema = z.object({
  NODE_ENV: withDefault(z.enum(['development', 'production', 'test']), 'development'),
  PORT: withDefault(int(0, 65535), 3000),
  HOST: withDefault(z.string(), '127.0.0.1'),
  // A port, 0 (any free port) or off; unset: the role's default (see src/main/metrics-server.ts).
  METRICS_PORT: optional(
    z.union([z.literal('off'), int(0, 65535)], {
      error: 'must be a port (0-65535), 0 for any free port, or off',
    }),
  ),
  PUBLIC_URL: optional(httpUrl),
  TRUST_PROXY: withDefault(trustProxy, 'false'),
  DATABASE_URL: withDefault(
    z.string().superRefine((url, context) => {
      if (url === ':memory:' || /^file:./.test(url)) return;
      if (/^postgres(ql)?:\/\//.test(url)) {
        if (!URL.canParse(url) || !new URL(url).hostname) {
          context.addIssue({
            code: 'custom',
            message: 'is not a valid postgres:// URL (postgres://user@host:5432/db)',
          });
        }
        return;
      }
      context.addIssue({
        code: 'custom',
        message:
          'must be file:PATH (an SQLite file, e.g. file:data/paperboy.db), :memory: or a postgres:// URL',
      });
    }),
    'file:data/paperboy.db',
  ),
  DATABASE_POOL_SIZE: optional(int(1, 1000)),
  DATABASE_STATEMENT_TIMEOUT_MS: withDefault(int(0, 3_600_000), 30_000),
  DATABASE_CONNECT_TIMEOUT_MS: withDefault(int(100, 600_000), 5_000),
  REDIS_URL: withDefault(redisUrl, 'redis://127.0.0.1:6379'),
  QUEUE_PREFIX: withDefault(
    z
      .string()
      .regex(
        /^(?=.{1,64}$)[A-Za-z0-9_-]*(\{[A-Za-z0-9_-]+\}[A-Za-z0-9_-]*)?$/,
        'letters, digits, _ and - only, with at most one non-empty {hash tag} (e.g. {paperboy})',
      ),
    'paperboy',
  ),
  SMTP_URL: optional(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' })),
  SMTP_TLS_CA_FILE: optional(z.string()),
  OUTBOX_DIR: withDefault(z.string(), 'data/outbox'),
  MAIL_FROM: withDefault(mailbox, 'paperboy <digest@localhost>'),
  REPLY_TO: optional(mailbox),
  SECRET_KEY: optional(z.string().min(32, 'must be at least 32 characters')),
  ADMIN_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  INGEST_CRON: withDefault(cron, '5 * * * *'),
  INGEST_SOURCES: withDefault(sources, 'hf-daily'),
  HF_API_URL: withDefault(httpUrl, 'https://huggingface.co/api'),
  ARXIV_API_URL: withDefault(httpUrl, 'https://export.arxiv.org/api'),
  INGEST_TIMEOUT_MS: withDefault(int(100, 600_000), 30_000),
  INGEST_RETRIES: withDefault(int(0, 10), 3),
  ARXIV_MAX_RESULTS: withDefault(int(1, 2000), 300),
  ARXIV_PAGE_DELAY_MS: withDefault(int(0, 60_000), 3000),
  INGEST_CATCH_UP_DAYS: withDefault(int(1, 60), 7),
  DIGEST_TICK_CRON: withDefault(cron, '*/15 * * * *'),
  SEND_CONCURRENCY: withDefault(int(1, 1000), 10),
  SEND_RATE_PER_SECOND: withDefault(int(0, 100000), 0),
  JOB_LOCK_MS: withDefault(int(1000, 600_000), 30_000),
  RATE_LIMIT_PER_MINUTE: withDefault(int(1, 1_000_000), 20),
  PREVIEW_RATE_LIMIT_PER_MINUTE: withDefault(int(1, 1_000_000), 120),
  DKIM_DOMAIN: optional(z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name')),
  DKIM_SELECTOR: optional(z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a DNS label')),
  DKIM_PRIVATE_KEY_FILE: optional(z.string()),
  LOG_LEVEL: withDefault(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface SqliteConfig {
  dialect: 'sqlite';
  url: string;
  path: string;
}

export interface PostgresConfig {
  dialect: 'postgres';
  url: string;
  /** Connections per process. */
  poolSize: number;
  /** A statement running longer is cancelled (0: never). */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

export type DatabaseConfig = SqliteConfig | PostgresConfig;

function databaseConfig(env: z.infer<typeof envSchema>): DatabaseConfig {
  const url = env.DATABASE_URL;
  if (url.startsWith('postgres')) {
    return {
      dialect: 'postgres',
      url,
      // Unset: enough for every send job of a worker to hold one, plus the other queues and the scheduler.
      poolSize: env.DATABASE_POOL_SIZE ?? Math.max(10, env.SEND_CONCURRENCY + 2),
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    };
  }
  const isMemory = url === ':memory:' || url === 'file::memory:';
  return { dialect: 'sqlite', url, path: isMemory ? ':memory:' : url.slice('file:'.length) };
}

function toConfig(env: z.infer<typeof envSchema>) {
  const redis: RedisConfig = { ...env.REDIS_URL, prefix: env.QUEUE_PREFIX };
  return {
    env: env.NODE_ENV,
    http: {
      port: env.PORT,
      host: env.HOST,
      // Unset: follow PORT, so `PORT=4000 npm start` still mails working links.
      publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
      trustProxy: env.TRUST_PROXY,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      previewRateLimitPerMinute: env.PREVIEW_RATE_LIMIT_PER_MINUTE,
    },
    /** The small `/metrics`, `/healthz`, `/readyz` server: a port, `off`, or unset (the role decides). */
    metrics: { port: env.METRICS_PORT },
    database: databaseConfig(env),
    redis,
    mail: {
      smtpUrl: env.SMTP_URL,
      tlsCaFile: env.SMTP_TLS_CA_FILE,
      outboxDir: env.OUTBOX_DIR,
      from: env.MAIL_FROM,
      /** Where replies to any email go; unset: MAIL_FROM. */
      replyTo: env.REPLY_TO ?? env.MAIL_FROM,
      /** SMTP connections per process: enough for the send concurrency. */
      maxConnections: env.SEND_CONCURRENCY,
      dkim:
        env.DKIM_DOMAIN && env.DKIM_SELECTOR && env.DKIM_PRIVATE_KEY_FILE
          ? {
              domain: env.DKIM_DOMAIN,
              selector: env.DKIM_SELECTOR,
              privateKeyFile: env.DKIM_PRIVATE_KEY_FILE,
            }
          : undefined,
    },
    secretKey: env.SECRET_KEY,
    adminToken: env.ADMIN_TOKEN,
    ingest: {
      cron: env.INGEST_CRON,
      sources: env.INGEST_SOURCES,
      hfApiUrl: env.HF_API_URL,
      arxivApiUrl: env.ARXIV_API_URL,
      timeoutMs: env.INGEST_TIMEOUT_MS,
      retries: env.INGEST_RETRIES,
      arxivMaxResults: env.ARXIV_MAX_RESULTS,
      arxivPageDelayMs: env.ARXIV_PAGE_DELAY_MS,
      /** Most hf-daily dates one run fetches when catching up after an outage (the newest ones). */
      catchUpDays: env.INGEST_CATCH_UP_DAYS,
    },
    digests: {
      tickCron: env.DIGEST_TICK_CRON,
      sendConcurrency: env.SEND_CONCURRENCY,
      sendRatePerSecond: env.SEND_RATE_PER_SECOND,
    },
    /** A job whose worker stops renewing its lock (it crashed) is taken over after this long. */
    jobLockMs: env.JOB_LOCK_MS,
    logLevel: env.LOG_LEVEL,
  };
}

type DraftConfig = ReturnType<typeof toConfig>;
/** The validated configuration; `secretKey` is always present once the composition root has resolved it. */
export type Config = Readonly<Omit<DraftConfig, 'secretKey'> & { secretKey: string }>;
export type UnresolvedConfig = Readonly<DraftConfig>;

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) if (child && typeof child === 'object') deepFreeze(child);
  return Object.freeze(value);
}

export function loadConfig(env: Record<string, string | undefined>): UnresolvedConfig {
  const result = envSchema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
  if (result.success) {
    const {
      DKIM_DOMAIN,
      DKIM_SELECTOR,
      DKIM_PRIVATE_KEY_FILE,
      NODE_ENV,
      QUEUE_PREFIX,
      REDIS_URL,
      SECRET_KEY,
      SMTP_URL,
      SMTP_TLS_CA_FILE,
    } = result.data;
    const dkimSet = [DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE].filter(Boolean).length;
    if (dkimSet !== 0 && dkimSet !== 3) {
      problems.push('DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE: set all three or none');
    }
    if (NODE_ENV === 'production' && !SECRET_KEY) {
      problems.push('SECRET_KEY: required when NODE_ENV=production');
    }
    if (REDIS_URL.mode === 'cluster' && !hasHashTag(QUEUE_PREFIX)) {
      problems.push(
        `QUEUE_PREFIX: a Redis Cluster needs a {hash tag} in it, e.g. {${QUEUE_PREFIX.replace(/[{}]/g, '')}}: BullMQ's scripts, and paperboy's own, touch several keys at once, which a cluster allows only when they share one hash slot`,
      );
    }
    if (SMTP_TLS_CA_FILE && !SMTP_URL) {
      problems.push('SMTP_TLS_CA_FILE: set SMTP_URL too (the CA file is for the relay SMTP_URL names)');
    }
    // The outbox keeps working confirm and manage links on disk: a development convenience only.
    if (NODE_ENV === 'production' && !SMTP_URL) {
      problems.push('SMTP_URL: required when NODE_ENV=production (the outbox is for development)');
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(toConfig(result.data));
}

/** Every variable paperboy reads; `.env.example` must list them all (a test checks). */
export const configVariables = Object.keys(envSchema.shape);
