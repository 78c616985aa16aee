import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { upsertPapers } from '../../src/papers/store.js';
import { testSecret } from '../support/app.js';
import { isPostgres } from '../support/database.js';
import { handedOverAtCrash } from '../support/digest.js';
import { fixture } from '../support/feed-server.js';
import { freePort } from '../support/ports.js';
import { canStartPrivatePostgres, startPrivatePostgres } from '../support/private-postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

const bin = new URL('../../bin/paperboy.js', import.meta.url).pathname;
const dueSubscribers = 5000;

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** Digests received per recipient: a digest carries List-* headers (mailparser's `list`), lifecycle emails do not. */
function digestsByRecipient(smtp: SmtpSink): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of smtp.received) {
    if (!mail.parsed.headers.has('list')) continue;
    for (const to of mail.envelopeTo) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

/**
 * Several machines, simulated honestly: two `serve` and three `worker` processes that share nothing
 * but PostgreSQL (a private server, so it can be restarted) and Redis.
 */
describe.skipIf(!isPostgres || !canStartPrivatePostgres)(
  'paperboy on several machines',
  { timeout: 300_000 },
  () => {
    let postgres: Awaited<ReturnType<typeof startPrivatePostgres>>;
    let smtp: SmtpSink;
    let db: Db;
    let env: Record<string, string>;
    const serveUrls: string[] = [];
    const children: ChildProcess[] = [];
    const workers: ChildProcess[] = [];
    let sendQueue: Queue;
    let redis: Redis;

    const startProcess = (role: 'serve' | 'worker', extra: Record<string, string> = {}) => {
      const child = spawn(process.execPath, [bin, role], {
        env: { ...env, ...extra },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };

    /** `paperboy digest --all [--at]` as an operator runs it: plans and enqueues, sends nothing itself. */
    const planAll = (at?: Date) =>
      new Promise<void>((resolve, reject) => {
        const args = [bin, 'digest', '--all', ...(at ? ['--at', at.toISOString()] : [])];
        const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`digest exited ${code}`))));
      });

    const unfinished = async () =>
      (await db.value<number>(sql`select count(*) from digests where status in ('queued', 'sending')`)) ?? 0;

    beforeAll(async () => {
      postgres = await startPrivatePostgres();
      smtp = await startSmtpSink();
      const prefix = `test-${randomUUID().slice(0, 8)}`;
      env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: postgres.url,
        DATABASE_POOL_SIZE: '5',
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: prefix,
        SMTP_URL: smtp.url,
        SECRET_KEY: testSecret,
        SEND_CONCURRENCY: '8',
        JOB_LOCK_MS: '3000',
        RATE_LIMIT_PER_MINUTE: '1000000',
        // Nothing scheduled fires during the test: planning is the operator's `digest --all`.
        DIGEST_TICK_CRON: '0 0 1 1 *',
        INGEST_CRON: '0 0 1 1 *',
        LOG_LEVEL: 'warn',
        // Three workers on one machine: each its own free metrics port.
        METRICS_PORT: '0',
      };
      // All five start at once, each migrating: the advisory lock lets one do it.
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        serveUrls.push(`http://127.0.0.1:${port}`);
        startProcess('serve', { PORT: String(port) });
      }
      for (let i = 0; i < 3; i++) workers.push(startProcess('worker'));

      redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
      sendQueue = new Queue('send', { connection: redis, prefix });
      await until(
        async () =>
          (
            await Promise.all(
              serveUrls.map((url) =>
                fetch(`${url}/readyz`)
                  .then((response) => response.status === 200)
                  .catch(() => false),
              ),
            )
          ).every(Boolean),
        60_000,
        'both serve processes',
      );
      await until(async () => (await sendQueue.getWorkersCount()) >= 3, 60_000, 'three workers');
      db = await openMigratedDatabase({
        dialect: 'postgres',
        url: postgres.url,
        poolSize: 2,
        statementTimeoutMs: 30_000,
        connectTimeoutMs: 5_000,
      });
    }, 120_000);

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await sendQueue?.close();
      redis?.disconnect();
      await db?.close();
      await smtp?.close();
      postgres?.stop();
    });

    it('stores every subscription, whichever serve process took it', async () => {
      const emails = Array.from({ length: 100 }, (_, i) => `web${i}@example.org`);
      const answers = await Promise.all(
        emails.map((email, i) =>
          fetch(`${serveUrls[i % 2]}/api/subscriptions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, topics: ['diffusion'] }),
          }).then((response) => response.status),
        ),
      );
      expect(answers.every((status) => status === 202)).toBe(true);
      const stored = await db.column<string>(
        sql`select email from subscribers where status = 'pending' order by email`,
      );
      expect(stored).toEqual([...emails].sort());
      // One confirmation each, sent by whichever worker took the job.
      await until(() => smtp.received.length >= 100, 60_000, 'the confirmations');
      expect(new Set(smtp.received.flatMap((mail) => mail.envelopeTo))).toEqual(new Set(emails));
    });

    it('sends 5,000 due subscribers exactly one digest each, then again through a killed worker and a PostgreSQL restart', async () => {
      // 5,000 active readers (no topics: the most upvoted new papers), and the day's papers.
      const now = new Date();
      for (let start = 0; start < dueSubscribers; start += 500) {
        const rows = Array.from(
          { length: 500 },
          (_, i) =>
            sql`(${`r${start + i}@example.org`}, 'active', 'daily', 1, 'UTC', 7, 5, ${randomBytes(16).toString('base64url')},
            ${now}, ${now}, ${now})`,
        );
        await db.run(sql`insert into subscribers (email, status, frequency, weekly_day, timezone, send_hour,
        max_papers, token_salt, created_at, updated_at, confirmed_at) values ${sql.join(rows)}`);
      }
      const ingest = (name: string) =>
        upsertPapers(
          db,
          parsePapersJson(JSON.parse(fixture(name)), new Date()).records,
          'hf-daily',
          new Date(),
        );
      await ingest('hf-daily-papers-2026-03-10.json');
      const readers = Array.from({ length: dueSubscribers }, (_, i) => `r${i}@example.org`);

      await planAll();
      await until(async () => (await unfinished()) === 0, 180_000, 'the first batch');
      await new Promise((resolve) => setTimeout(resolve, 1000)); // anything late would show up now
      let received = digestsByRecipient(smtp);
      expect(readers.filter((email) => received.get(email) !== 1)).toEqual([]);
      expect(await db.value(sql`select count(*) from digests where status = 'sent'`)).toBe(dueSubscribers);

      // The next day: new papers, a new batch, and trouble in the middle of it.
      await ingest('hf-daily-papers-latest-limit30-2026-07-31.json');
      const before = smtp.received.length;
      await planAll(new Date(Date.now() + 86_400_000));
      await until(
        () => smtp.received.length - before >= dueSubscribers / 5,
        120_000,
        'a fifth of the second batch',
      );
      const killed = workers[0] as ChildProcess;
      killed.kill('SIGKILL');
      await new Promise((resolve) => killed.once('exit', resolve));
      await postgres.restart();
      const midway = smtp.received.length - before;
      expect(midway).toBeLessThan(dueSubscribers);

      await until(async () => (await unfinished().catch(() => 1)) === 0, 240_000, 'the second batch');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      received = digestsByRecipient(smtp);
      // Never two of one day's digest; one missing only where the killed worker died between recording
      // the message as handed over and the server's answer (`handedOverAtCrash`).
      const handedOver = await handedOverAtCrash(db);
      const lost = readers.filter((email) => handedOver.has(email) && received.get(email) === 1);
      expect(lost.length).toBeLessThanOrEqual(8); // the killed worker's sends in flight
      const wrong = readers.filter((email) => received.get(email) !== 2 && !lost.includes(email));
      expect(wrong.map((email) => `${email}: ${received.get(email) ?? 0}`)).toEqual([]);
      const statuses = await db.all(
        sql`select status, count(*) as n from digests group by status order by status`,
      );
      expect(statuses).toEqual([{ status: 'sent', n: 2 * dueSubscribers }]);
      // Every other process lived through the restart (a connection dropped mid-transaction must not
      // end a worker).
      expect(children.filter((child) => child !== killed).map((child) => child.exitCode)).toEqual([
        null,
        null,
        null,
        null,
      ]);
    });

    it('/readyz says so while PostgreSQL is down, and recovers when it is back', async () => {
      const ready = async () => {
        const response = await fetch(`${serveUrls[0]}/readyz`);
        return {
          status: response.status,
          body: (await response.json()) as { checks: Record<string, boolean> },
        };
      };
      expect((await ready()).status).toBe(200);
      await postgres.pause();
      try {
        expect(await ready()).toEqual({
          status: 503,
          body: expect.objectContaining({ checks: { database: false, redis: true } }),
        });
      } finally {
        await postgres.resume();
      }
      await until(async () => (await ready()).status === 200, 30_000, 'readyz to recover');
    });
  },
);
