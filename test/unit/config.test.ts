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
    });
    expect(config.databasePath).toBe('data/paperboy.db');
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'paperboy' });
    expect(config.mail).toMatchObject({
      smtpUrl: undefined,
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
    expect(loadConfig({ DATABASE_URL: 'file:/var/lib/paperboy.db' }).databasePath).toBe(
      '/var/lib/paperboy.db',
    );
    expect(loadConfig({ DATABASE_URL: ':memory:' }).databasePath).toBe(':memory:');
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

  it('requires SECRET_KEY in production and all three DKIM settings together', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['SECRET_KEY: required when NODE_ENV=production']);
    expect(problemsOf({ DKIM_DOMAIN: 'example.org' })).toHaveLength(1);
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
