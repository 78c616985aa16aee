import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function sendOneDigest(prefix: string) {
  const app = await startTestApp({ env: { QUEUE_PREFIX: prefix } });
  apps.push(app);
  await seedSamplePapers(app.runtime.db);
  await seedSubscriber(app.runtime.db, { email: 'reader@example.org', topics: ['language model'] });
  const planned = await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
  const received = await app.smtp.waitFor((mails) => mails.length === 1, 15_000);
  const statusOf = () =>
    app.runtime.db.value(sql`select status from digests where id = ${planned.digestIds[0]}`);
  // The row is marked sent just after the server has the message.
  for (let tries = 0; tries < 100 && (await statusOf()) !== 'sent'; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const status = await statusOf();
  return { planned, subject: received[0]?.parsed.subject, status };
}

describe('send-digest job ids', () => {
  it('a fresh database on the same queue prefix still sends its digest 1 (finished jobs are kept a day)', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const first = await sendOneDigest(prefix);
    expect(first.planned.digestIds).toEqual([1]);
    expect(first.status).toBe('sent');
    await apps.splice(0)[0]?.close();

    // A new database (deleted file, new PostgreSQL database) numbers its digests from 1 again.
    const second = await sendOneDigest(prefix);
    expect(second.planned.digestIds).toEqual([1]);
    expect(second.subject).toMatch(/paper/i);
    expect(second.status).toBe('sent');
  });
});
