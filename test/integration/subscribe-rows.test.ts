import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { seedSubscriber } from '../support/factories.js';

/** What one subscribe request leaves in the database, whatever the store. */
async function rowsOf(app: TestApp, email: string) {
  const db = app.runtime.db;
  const subscriber = await db.get<{ id: number; status: string; frequency: string; sendHour: number }>(
    sql`select id, status, frequency, send_hour as "sendHour" from subscribers where email = ${email}`,
  );
  if (!subscriber) return undefined;
  const id = subscriber.id;
  return {
    status: subscriber.status,
    frequency: subscriber.frequency,
    sendHour: Number(subscriber.sendHour),
    topics: await db.all(
      sql`select position, query from subscriber_topics where subscriber_id = ${id} order by position`,
    ),
    requests: (
      await db.column<string>(sql`select preferences from subscription_requests where subscriber_id = ${id}`)
    ).map((text) => JSON.parse(text)),
    events: await db.all(
      sql`select type, source, detail from subscriber_events where subscriber_id = ${id} order by id`,
    ),
  };
}

describe('what a subscribe request stores', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('stores a new address as a pending row with its topics in order, one request holding what was asked, and one event', async () => {
    const email = 'new-reader@example.org';
    const body = { email, topics: ['diffusion models', ' graph neural networks ', 'cat:cs.LG'], sendHour: 9 };
    expect((await api(app, '/api/subscriptions', { body })).status).toBe(202);
    expect(await rowsOf(app, email)).toEqual({
      status: 'pending',
      frequency: 'daily',
      sendHour: 9,
      topics: [
        { position: 0, query: 'diffusion models' },
        { position: 1, query: 'graph neural networks' },
        { position: 2, query: 'cat:cs.LG' },
      ],
      requests: [
        {
          topics: ['diffusion models', 'graph neural networks', 'cat:cs.LG'],
          frequency: 'daily',
          weeklyDay: 1,
          timezone: 'UTC',
          sendHour: 9,
          maxPapers: 10,
          delivery: 'email',
        },
      ],
      events: [{ type: 'subscribed', source: 'api', detail: null }],
    });
  });

  it('stores a new address without topics with none', async () => {
    const email = 'no-topics@example.org';
    expect((await api(app, '/api/subscriptions', { body: { email } })).status).toBe(202);
    const rows = await rowsOf(app, email);
    expect(rows?.topics).toEqual([]);
    expect(rows?.requests).toEqual([
      {
        topics: [],
        frequency: 'daily',
        weeklyDay: 1,
        timezone: 'UTC',
        sendHour: 7,
        maxPapers: 10,
        delivery: 'email',
      },
    ]);
  });

  it('stores one row, and an event for each, for a burst of concurrent requests for one new address', async () => {
    const email = 'burst-new@example.org';
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api(app, '/api/subscriptions', { body: { email, topics: [`topic ${i}`] } }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(202));
    const rows = await rowsOf(app, email);
    // The first request's row keeps its own topics; the others' preferences wait in their requests
    // (whose emails the throttle turned down, so all but the one emailed are deleted again).
    expect(rows?.status).toBe('pending');
    expect(rows?.topics).toHaveLength(1);
    expect(rows?.requests).toHaveLength(1);
    expect(rows?.events).toHaveLength(8);
  });

  it('leaves an existing address as it is and records a request and an event beside it', async () => {
    const known = await seedSubscriber(app.runtime.db, {
      email: 'known-pending@example.org',
      status: 'pending',
      topics: ['my own topic'],
    });
    const body = { email: known.email, topics: ['asked by someone'], maxPapers: 3 };
    expect((await api(app, '/api/subscriptions', { body })).status).toBe(202);
    const rows = await rowsOf(app, known.email);
    expect(rows?.topics).toEqual([{ position: 0, query: 'my own topic' }]);
    expect(rows?.requests).toEqual([
      {
        topics: ['asked by someone'],
        frequency: 'daily',
        weeklyDay: 1,
        timezone: 'UTC',
        sendHour: 7,
        maxPapers: 3,
        delivery: 'email',
      },
    ]);
    expect(rows?.events.map((event) => (event as { type: string }).type)).toContain('subscribed');
  });
});
