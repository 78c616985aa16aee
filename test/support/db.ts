import type { Db } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { tableNames } from './database.js';

/** Every row of every table, to prove that a rejected request changed nothing. */
export async function snapshotDb(db: Db): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const name of await tableNames(db)) {
    snapshot[name] = await db.all(sql`select * from ${sql.raw(`"${name}"`)} order by 1, 2, 3`);
  }
  return snapshot;
}
