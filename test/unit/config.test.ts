import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig } from '../../src/config.js';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:3000',
      trustProxy: false,
      rateLimitPerMinute: 20,
      previewRateLimitPerMinute: 120,
    });
    expect(config.database).toEqual({
      dialect: 'sqlite',
      url: 'file:data/paperboy.db',
      path: 'data/paperboy.db',
    });
    expect(config.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'paperboy',
      mode: 'single',
      nodes: [{ host: '127.0.0.1', port: 6379 }],
      tls: false,
    });
    expect(config.mail).toMatchObject({
      smtpUrl: undefined,
      tlsCaFile: undefined,
      outboxDir: 'data/outbox',
      from: 'paperboy <digest@localhost>',
    });
    expect(config.ingest.sources).toEqual(['hf-daily']);
    expect(config.digests).toEqual({ tickCron: '*/15 * * * *', sendConcurrency: 10, sendRatePerSecond: 0 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', SMTP_URL: '' }).http.port).toBe(3000);
  });

  it('reads file: URLs and :memory: for the database', () => {
    expect(loadConfig({ DATABASE_URL: 'file:/var/lib/paperboy.db' }).database).toEqual({
      dialect: 'sqlite',
      url: 'file:/var/lib/paperboy.db',
      path: '/var/lib/paperboy.db',
    });
    expect(loadConfig({ DATABASE_URL: ':memory:' }).database).toEqual({
      dialect: 'sqlite',
      url: ':memory:',
      path: ':memory:',
    });
    expect(loadConfig({ DATABASE_URL: 'file::memory:' }).database).toEqual({
      dialect: 'sqlite',
      url: 'file::memory:',
      path: ':memory:',
    });
  });

  it('reads postgres:// and postgresql:// URLs, with the pool settings and their defaults', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' }).database).toEqual({
      dialect: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/x',
      poolSize: 12, // SEND_CONCURRENCY (10) + 2
      statementTimeoutMs: 30_000,
      connectTimeoutMs: 5_000,
    });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db.internal/paperboy' }).database).toEqual({
      dialect: 'postgres',
      url: 'postgresql://db.internal/paperboy',
      poolSize: 12,
      statementTimeoutMs: 30_000,
      connectTimeoutMs: 5_000,
    });
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://db.internal/paperboy',
        DATABASE_POOL_SIZE: '25',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
      }).database,
    ).toEqual({
      dialect: 'postgres',
      url: 'postgres://db.internal/paperboy',
      poolSize: 25,
      statementTimeoutMs: 0,
      connectTimeoutMs: 1000,
    });
  });

  it('sizes the pool for every send job of a worker when DATABASE_POOL_SIZE is unset', () => {
    const postgres = { DATABASE_URL: 'postgres://db.internal/paperboy' };
    const poolSize = (env: Record<string, string>) => {
      const database = loadConfig({ ...postgres, ...env }).database;
      return database.dialect === 'postgres' ? database.poolSize : undefined;
    };
    expect(poolSize({ SEND_CONCURRENCY: '4' })).toBe(10);
    expect(poolSize({ SEND_CONCURRENCY: '20' })).toBe(22);
    expect(poolSize({ SEND_CONCURRENCY: '20', DATABASE_POOL_SIZE: '5' })).toBe(5);
  });

  it('refuses a postgres URL without a host', () => {
    for (const url of ['postgres://', 'postgresql://', 'postgres:///paperboy']) {
      expect(problemsOf({ DATABASE_URL: url })).toEqual([
        'DATABASE_URL: is not a valid postgres:// URL (postgres://user@host:5432/db)',
      ]);
    }
  });

  it('catches up at most INGEST_CATCH_UP_DAYS hf-daily dates, 7 by default, 1 to 60', () => {
    expect(loadConfig({}).ingest.catchUpDays).toBe(7);
    expect(loadConfig({ INGEST_CATCH_UP_DAYS: '30' }).ingest.catchUpDays).toBe(30);
    expect(problemsOf({ INGEST_CATCH_UP_DAYS: '0' })).toEqual(['INGEST_CATCH_UP_DAYS: must be at least 1']);
    expect(problemsOf({ INGEST_CATCH_UP_DAYS: '61' })).toEqual(['INGEST_CATCH_UP_DAYS: must be at most 60']);
  });

  it('refuses pool settings out of range', () => {
    const postgres = { DATABASE_URL: 'postgres://db.internal/paperboy' };
    expect(problemsOf({ ...postgres, DATABASE_POOL_SIZE: '0' })).toEqual([
      'DATABASE_POOL_SIZE: must be at least 1',
    ]);
    expect(problemsOf({ ...postgres, DATABASE_POOL_SIZE: 'many' })).toEqual([
      'DATABASE_POOL_SIZE: must be a whole number',
    ]);
    expect(problemsOf({ ...postgres, DATABASE_STATEMENT_TIMEOUT_MS: '-1' })).toEqual([
      'DATABASE_STATEMENT_TIMEOUT_MS: must be at least 0',
    ]);
    expect(problemsOf({ ...postgres, DATABASE_CONNECT_TIMEOUT_MS: '10' })).toEqual([
      'DATABASE_CONNECT_TIMEOUT_MS: must be at least 100',
    ]);
  });

  it('refuses a DATABASE_URL that is neither an SQLite file nor PostgreSQL, rather than making one out of it', () => {
    // This used to create a folder named "mysql:" with an SQLite file in it.
    for (const url of ['mysql://x', 'mysql://root@localhost/x', 'data/paperboy.db', 'file:', 'sqlite:x.db']) {
      const problems = problemsOf({ DATABASE_URL: url });
      expect(problems).toEqual([
        'DATABASE_URL: must be file:PATH (an SQLite file, e.g. file:data/paperboy.db), :memory: or a postgres:// URL',
      ]);
      expect(problems[0]).toContain('file:PATH');
    }
  });

  describe('REDIS_URL: one node, a Redis Cluster or Sentinel', () => {
    it('reads one node, with credentials and TLS', () => {
      expect(loadConfig({ REDIS_URL: 'rediss://app:p%40ss@redis.internal:6380/2' }).redis).toEqual({
        url: 'rediss://app:p%40ss@redis.internal:6380/2',
        prefix: 'paperboy',
        mode: 'single',
        nodes: [{ host: 'redis.internal', port: 6380 }],
        username: 'app',
        password: 'p@ss',
        tls: true,
      });
    });

    it('reads a cluster’s seed nodes (IPv6 in brackets, 6379 by default)', () => {
      const url = 'rediss+cluster://:s3cret@10.0.0.1:7000,[fd00::2]:7001,redis-3';
      expect(loadConfig({ REDIS_URL: url, QUEUE_PREFIX: '{paperboy}' }).redis).toEqual({
        url,
        prefix: '{paperboy}',
        mode: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'fd00::2', port: 7001 },
          { host: 'redis-3', port: 6379 },
        ],
        password: 's3cret',
        tls: true,
      });
    });

    it('reads sentinels (26379 by default) and the master group’s name', () => {
      const url = 'redis+sentinel://app:pw@sentinel-1:26380,sentinel-2/main';
      expect(loadConfig({ REDIS_URL: url }).redis).toEqual({
        url,
        prefix: 'paperboy',
        mode: 'sentinel',
        nodes: [
          { host: 'sentinel-1', port: 26380 },
          { host: 'sentinel-2', port: 26379 },
        ],
        name: 'main',
        username: 'app',
        password: 'pw',
        tls: false,
      });
    });

    it.each([
      ['another scheme', 'http://localhost', 'must be redis://host:port (one node), redis+cluster://'],
      ['an unknown topology', 'redis+shards://a:1', 'must be redis://host:port (one node)'],
      ['a port out of range', 'redis+cluster://a:1,b:70000', 'has "b:70000" where host:port is expected'],
      ['an empty node', 'redis+cluster://a:1,', 'has "" where host:port is expected'],
      ['a database on a cluster', 'redis+cluster://a:1/2', 'takes no /path with redis+cluster://'],
      ['no master name', 'redis+sentinel://a:26379', 'must name the Sentinel master group'],
      ['a query', 'redis+sentinel://a:26379/main?db=1', 'takes no ?query'],
    ])('refuses %s', (_, url, message) => {
      const problems = problemsOf({ REDIS_URL: url, QUEUE_PREFIX: '{paperboy}' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`REDIS_URL: ${message}`);
    });

    it('refuses a cluster without a {hash tag} in QUEUE_PREFIX, saying why', () => {
      expect(problemsOf({ REDIS_URL: 'redis+cluster://10.0.0.1:7000', QUEUE_PREFIX: 'pb' })).toEqual([
        "QUEUE_PREFIX: a Redis Cluster needs a {hash tag} in it, e.g. {pb}: BullMQ's scripts, and paperboy's own, touch several keys at once, which a cluster allows only when they share one hash slot",
      ]);
      expect(problemsOf({ REDIS_URL: 'redis+cluster://10.0.0.1:7000', QUEUE_PREFIX: 'app-{pb}' })).toEqual(
        [],
      );
    });

    it('takes at most one non-empty {hash tag} in QUEUE_PREFIX', () => {
      for (const prefix of ['{pb}', 'app-{pb}', '{pb}-jobs', 'pb']) {
        expect(problemsOf({ QUEUE_PREFIX: prefix }), prefix).toEqual([]);
      }
      for (const prefix of ['{}', '{a}{b}', 'a{b', 'a}b', '{a{b}}', 'a:b', 'x'.repeat(65)]) {
        expect(problemsOf({ QUEUE_PREFIX: prefix }), prefix).toHaveLength(1);
      }
    });
  });

  it('reads METRICS_PORT as a port, 0 (any free port) or off, and leaves it to the role when unset', () => {
    expect(loadConfig({}).metrics).toEqual({ port: undefined });
    expect(loadConfig({ METRICS_PORT: '' }).metrics).toEqual({ port: undefined });
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464 });
    expect(loadConfig({ METRICS_PORT: '0' }).metrics).toEqual({ port: 0 });
    expect(loadConfig({ METRICS_PORT: 'off' }).metrics).toEqual({ port: 'off' });
  });

  it('refuses a METRICS_PORT that is not a port with a message saying what it may be', () => {
    expect(problemsOf({ METRICS_PORT: 'metrics' })).toEqual([
      'METRICS_PORT: must be a port (0-65535), 0 for any free port, or off',
    ]);
    expect(problemsOf({ METRICS_PORT: '65536' })).toEqual(['METRICS_PORT: must be at most 65535']);
    expect(problemsOf({ METRICS_PORT: '-1' })).toEqual(['METRICS_PORT: must be at least 0']);
    expect(problemsOf({ METRICS_PORT: '94.64' })).toHaveLength(1);
    expect(problemsOf({ METRICS_PORT: 'OFF' })).toHaveLength(1);
  });

  it('lists every problem in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      PUBLIC_URL: 'ftp://example.org',
      REDIS_URL: 'http://localhost',
      DIGEST_TICK_CRON: 'every day',
      INGEST_SOURCES: 'hf-daily,rss',
      LOG_LEVEL: 'loud',
      SEND_CONCURRENCY: '0',
      SECRET_KEY: 'short',
    });
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      'PORT',
      'PUBLIC_URL',
      'REDIS_URL',
      'SECRET_KEY',
      'INGEST_SOURCES',
      'DIGEST_TICK_CRON',
      'SEND_CONCURRENCY',
      'LOG_LEVEL',
    ]);
  });

  it('requires SECRET_KEY and SMTP_URL in production, and all three DKIM settings together', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'SECRET_KEY: required when NODE_ENV=production',
      'SMTP_URL: required when NODE_ENV=production (the outbox is for development)',
    ]);
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(32) })).toEqual([
      'SMTP_URL: required when NODE_ENV=production (the outbox is for development)',
    ]);
    expect(
      problemsOf({
        NODE_ENV: 'production',
        SECRET_KEY: 'k'.repeat(32),
        SMTP_URL: 'smtp://relay.internal:25',
      }),
    ).toEqual([]);
    expect(problemsOf({ DKIM_DOMAIN: 'example.org' })).toHaveLength(1);
  });

  describe('MAIL_FROM is one RFC 5322 mailbox', () => {
    it.each([
      ['a vertical tab', 'paperboy\u000b <digest@example.org>'],
      ['a NEL (U+0085)', 'paper\u0085boy <digest@example.org>'],
      ['a line separator (U+2028)', 'paperboy\u2028 <digest@example.org>'],
      ['a paragraph separator (U+2029) in a quoted name', '"paper\u2029boy" <digest@example.org>'],
      ['an unquoted ":" in the display name', 'paperboy: daily <digest@example.org>'],
      ['an unquoted "," in the display name', 'Lovelace, Ada <digest@example.org>'],
      ['two addresses', 'digest@example.org, other@example.org'],
      ['two mailboxes', 'paperboy <digest@example.org>, Eve <eve@example.org>'],
      [
        'a CRLF and a second header after the address',
        'paperboy <digest@example.org>\r\nBcc: victim@example.org',
      ],
      ['a CRLF inside the display name', 'paperboy\r\nBcc: victim@example.org <digest@example.org>'],
      ['a bare LF', 'digest@example.org\nBcc: victim@example.org'],
      ['an unterminated angle address', 'paperboy <digest@example.org'],
      ['no address at all', 'paperboy'],
    ])('refuses %s, naming MAIL_FROM', (_case, from) => {
      const problems = problemsOf({ MAIL_FROM: from });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^MAIL_FROM: must be one mailbox/);
    });

    it.each([
      'paperboy <digest@localhost>',
      'digest@example.org',
      '"paperboy: daily" <a@b.org>',
      'Jürgen <a@b.org>',
      'Ada Lovelace <ada.lovelace+digest@mail.example.org>',
    ])('accepts %s unchanged', (from) => {
      expect(loadConfig({ MAIL_FROM: from }).mail.from).toBe(from);
    });
  });

  describe('REPLY_TO', () => {
    it('is MAIL_FROM unless set', () => {
      expect(loadConfig({}).mail.replyTo).toBe('paperboy <digest@localhost>');
      expect(loadConfig({ MAIL_FROM: 'digest@example.org', REPLY_TO: '' }).mail.replyTo).toBe(
        'digest@example.org',
      );
      expect(
        loadConfig({ MAIL_FROM: 'digest@example.org', REPLY_TO: 'paperboy help <help@example.org>' }).mail,
      ).toMatchObject({ from: 'digest@example.org', replyTo: 'paperboy help <help@example.org>' });
    });

    it.each([
      ['two addresses', 'help@example.org, other@example.org'],
      ['a CRLF and a second header', 'help@example.org\r\nBcc: victim@example.org'],
      ['no address at all', 'paperboy help'],
    ])('is one mailbox, as MAIL_FROM: refuses %s', (_case, replyTo) => {
      expect(problemsOf({ REPLY_TO: replyTo })).toEqual([
        'REPLY_TO: must be one mailbox: "Name <address@example.org>" or an address',
      ]);
    });
  });

  describe('TRUST_PROXY', () => {
    it('is off unless set, and "false" or 0 keep it off', () => {
      expect(loadConfig({}).http.trustProxy).toBe(false);
      expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
      expect(loadConfig({ TRUST_PROXY: '0' }).http.trustProxy).toBe(false);
    });

    it('takes a number of proxy hops', () => {
      expect(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
      expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    });

    it('takes proxy addresses, CIDRs and express names such as loopback', () => {
      expect(loadConfig({ TRUST_PROXY: 'loopback' }).http.trustProxy).toEqual(['loopback']);
      expect(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1,fd00::/8' }).http.trustProxy).toEqual([
        '10.0.0.1',
        '10.1.0.0/16',
        '::1',
        'fd00::/8',
      ]);
    });

    it('refuses "true", which would trust any X-Forwarded-For a client sends', () => {
      const problems = problemsOf({ TRUST_PROXY: 'true' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY: must be the number of proxies/);
      expect(problems[0]).toContain('X-Forwarded-For');
    });

    it.each([
      '1.2.3.4/33',
      'fd00::/129',
      '10.0.0.0/8/8',
      '10.0.0.0/',
      '300.1.1.1',
      'proxy.internal',
      'yes',
      '999',
    ])('refuses %s', (value) => {
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
    });
  });

  it('reads SMTP_TLS_CA_FILE as a path, unset by default', () => {
    const relay = { SMTP_URL: 'smtp://relay.internal:587' };
    expect(loadConfig({ ...relay, SMTP_TLS_CA_FILE: '/etc/ssl/relay-ca.pem' }).mail.tlsCaFile).toBe(
      '/etc/ssl/relay-ca.pem',
    );
    expect(loadConfig({ SMTP_TLS_CA_FILE: '' }).mail.tlsCaFile).toBeUndefined();
    // Without a relay the CA file would be ignored: say so instead.
    expect(problemsOf({ SMTP_TLS_CA_FILE: '/etc/ssl/relay-ca.pem' })).toEqual([
      expect.stringMatching(/^SMTP_TLS_CA_FILE: set SMTP_URL too/),
    ]);
  });

  it('limits topic previews to PREVIEW_RATE_LIMIT_PER_MINUTE, 120 by default', () => {
    expect(loadConfig({}).http.previewRateLimitPerMinute).toBe(120);
    expect(loadConfig({ PREVIEW_RATE_LIMIT_PER_MINUTE: '30' }).http.previewRateLimitPerMinute).toBe(30);
    expect(problemsOf({ PREVIEW_RATE_LIMIT_PER_MINUTE: '0' })).toEqual([
      'PREVIEW_RATE_LIMIT_PER_MINUTE: must be at least 1',
    ]);
  });

  it('strips a trailing slash from PUBLIC_URL so links never get a double slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://papers.example.org/' }).http.publicUrl).toBe(
      'https://papers.example.org',
    );
  });

  it('is listed variable by variable in .env.example', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const listed = [...example.matchAll(/^# ([A-Z_]+)=/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...configVariables].sort());
  });
});
