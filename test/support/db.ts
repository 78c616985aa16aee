import type { Db } from '../../src/db/client.js';

/** Every row of every table, to prove that a rejected request changed nothing. */
export function snapshotDb(db: Db): Record<string, unknown[]> {
  const tables = db.$client
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%' order by name",
    )
    .all() as { name: string }[];
  return Object.fromEntries(
    tables.map(({ name }) => [name, db.$client.prepare(`select * from "${name}"`).all()]),
  );
}
