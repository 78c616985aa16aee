import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { type Runtime, startRuntime } from '../../src/main/runtime.js';
import { resolveSecretKey } from '../../src/main/secret.js';
import { checkAnswersOf, stopCheckingAnswersOf } from './checked-origins.js';
import { testDatabaseUrl } from './database.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

export const testSecret = 'test-secret-key-that-is-long-enough-0123456789';

/** A config like production's, with a private database (see `database.ts`) and a fresh queue prefix. */
export function testConfig(env: Record<string, string> = {}): { config: Config; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-test-'));
  const config = resolveSecretKey(
    loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(dir),
      OUTBOX_DIR: join(dir, 'outbox'),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: `test-${randomUUID().slice(0, 8)}`,
      SECRET_KEY: testSecret,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    }),
  );
  return { config, dir };
}

export interface TestApp {
  url: string;
  runtime: Runtime;
  config: Config;
  smtp: SmtpSink;
  close(): Promise<void>;
}

/** The whole service (HTTP + workers) on the real test store, real Redis and a real in-process SMTP server. */
export async function startTestApp(
  options: { env?: Record<string, string>; clock?: Clock; workers?: boolean } = {},
): Promise<TestApp> {
  const smtp = await startSmtpSink();
  const { config, dir } = testConfig({ SMTP_URL: smtp.url, ...options.env });
  const runtime = await startRuntime(config, {
    http: true,
    workers: options.workers ?? true,
    clock: options.clock,
    log: createLogger(config.logLevel),
  });
  if (runtime.url) checkAnswersOf(runtime.url);
  return {
    url: runtime.url ?? '',
    runtime,
    config,
    smtp,
    async close() {
      if (runtime.url) stopCheckingAnswersOf(runtime.url);
      await runtime.close();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON request against the test app. */
export async function api(
  app: { url: string },
  path: string,
  init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${app.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
    redirect: 'manual',
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, text, json: json as Record<string, unknown> };
}

/** A form POST, as a browser without JavaScript sends it. */
export function postForm(app: { url: string }, path: string, fields: Record<string, string>) {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}
