import { rmSync } from 'node:fs';
import type { Clock } from '../../src/clock.js';
import { openMigratedDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/log.js';
import type { IngestCtx } from '../../src/papers/ingest.js';
import { testConfig } from './app.js';

/** What ingestion needs, on a private test database; no Redis. */
export async function ingestContext(env: Record<string, string> = {}, clock: Clock = () => new Date()) {
  const { config, dir } = testConfig({ ARXIV_PAGE_DELAY_MS: '0', INGEST_RETRIES: '2', ...env });
  const db = await openMigratedDatabase(config.database);
  const ctx: IngestCtx = { config, db, clock, log: createLogger('silent') };
  return {
    ctx,
    db,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
