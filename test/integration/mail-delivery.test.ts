import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startRuntime } from '../../src/main/runtime.js';
import { api, startTestApp, testConfig } from '../support/app.js';
import { startSmtpSink } from '../support/smtp-sink.js';

const waitUntil = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('mail delivery', () => {
  it('writes .eml and .html to the outbox while SMTP_URL is unset', async () => {
    const app = await startTestApp({ env: { SMTP_URL: '' } });
    try {
      const outbox = app.config.mail.outboxDir;
      await api(app, '/api/subscriptions', { body: { email: 'outbox@example.org' } });
      await waitUntil(() => existsSync(outbox) && readdirSync(outbox).length === 2);
      const files = readdirSync(outbox).sort();
      expect(files[0]).toMatch(/-confirmation\.eml$/);
      expect(files[1]).toMatch(/-confirmation\.html$/);
      const eml = readFileSync(join(outbox, files[0] ?? ''), 'utf8');
      expect(eml).toContain('To: outbox@example.org');
      expect(eml).toContain('Subject: Confirm your paperboy subscription');
      expect(eml).toContain('Content-Type: text/plain');
      expect(eml).toContain('Content-Type: text/html');
      expect(readFileSync(join(outbox, files[1] ?? ''), 'utf8')).toContain('Confirm subscription');
      expect(app.smtp.received).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('retries with backoff when the SMTP server answers 421, and delivers once', async () => {
    let attempts = 0;
    const smtp = await startSmtpSink({
      respond: () => {
        attempts++;
        if (attempts > 1) return undefined;
        return Object.assign(new Error('Service not available, try again later'), { responseCode: 421 });
      },
    });
    const { config, dir } = testConfig({ SMTP_URL: smtp.url });
    const runtime = await startRuntime(config, { http: true, workers: true, log: createLogger('silent') });
    try {
      await api({ url: runtime.url ?? '' }, '/api/subscriptions', { body: { email: 'flaky@example.org' } });
      await smtp.waitFor((mail) => mail.length === 1, 15_000);
      expect(attempts).toBe(2);
      expect(smtp.to('flaky@example.org')).toHaveLength(1);
    } finally {
      await runtime.close();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not retry a 550: the job fails at once', async () => {
    let attempts = 0;
    const smtp = await startSmtpSink({
      respond: () => {
        attempts++;
        return Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
      },
    });
    const { config, dir } = testConfig({ SMTP_URL: smtp.url });
    const runtime = await startRuntime(config, { http: true, workers: true, log: createLogger('silent') });
    try {
      const failed = new Promise<string>((resolve) =>
        runtime.workers[0]?.on('failed', (_job, error) => resolve(error.name)),
      );
      await api({ url: runtime.url ?? '' }, '/api/subscriptions', { body: { email: 'gone@example.org' } });
      expect(await failed).toBe('UnrecoverableError');
      await new Promise((resolve) => setTimeout(resolve, 2500)); // past the first backoff delay
      expect(attempts).toBe(1);
    } finally {
      await runtime.close();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
