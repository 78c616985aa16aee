import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { walkSubscribers } from '../../src/subscribers/walk-subscribers.js';
import { testConfig } from '../support/app.js';
import { seedSubscriber } from '../support/factories.js';

describe('walkSubscribers', () => {
  const { config, dir } = testConfig();
  let db: Db;
  const ids: number[] = [];

  beforeAll(async () => {
    db = await openMigratedDatabase(config.database);
    const seeds = [
      { topics: ['diffusion', 'author:"Yann LeCun"', 'cat:cs.LG'], maxPapers: 20 },
      { topics: [] },
      { topics: ['quantization'], status: 'unsubscribed' as const },
      { topics: ['b', 'a'], maxPapers: 5 },
      { topics: ['"state space" -survey'] },
    ];
    for (const [i, seed] of seeds.entries()) {
      const subscriber = await seedSubscriber(db, { email: `walk-${i}@example.org`, ...seed });
      ids.push(subscriber.id);
    }
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const walkAll = async (options: Parameters<typeof walkSubscribers>[1]) => {
    const pages = [];
    for await (const page of walkSubscribers(db, options)) pages.push(page);
    return pages;
  };

  it('reads the active subscribers in pages by id, each with its max papers and topics in order', async () => {
    const pages = await walkAll({ pageSize: 2 });
    expect(pages.map((page) => page.length)).toEqual([2, 2]);
    expect(pages.flat()).toEqual([
      { id: ids[0], maxPapers: 20, topics: ['diffusion', 'author:"Yann LeCun"', 'cat:cs.LG'] },
      { id: ids[1], maxPapers: 10, topics: [] },
      { id: ids[3], maxPapers: 5, topics: ['b', 'a'] },
      { id: ids[4], maxPapers: 10, topics: ['"state space" -survey'] },
    ]);
  });

  it('resumes after the last id a run finished, and walks another status when asked', async () => {
    expect((await walkAll({ afterId: ids[1] })).flat().map((subscriber) => subscriber.id)).toEqual([
      ids[3],
      ids[4],
    ]);
    expect((await walkAll({ status: 'unsubscribed' })).flat()).toEqual([
      { id: ids[2], maxPapers: 10, topics: ['quantization'] },
    ]);
  });
});
