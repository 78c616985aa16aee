/** Counters of `bench/probe.mjs`, cumulative since the process started (ms are wall time). */
export interface ProbeCounters {
  /** better-sqlite3 statement calls and `exec`s, and the time spent inside them. */
  sqliteCalls: number;
  sqliteMs: number;
  /** Time the write lock was held: BEGIN IMMEDIATE to COMMIT/ROLLBACK, and autocommit writes. */
  sqliteWriteLockMs: number;
  /** Time inside better-sqlite3 statement calls made within a transaction (the rest of a write span is JavaScript). */
  sqliteInTransactionMs: number;
  /** BEGIN IMMEDIATE or autocommit writes that took ≥ 1 ms (waited for another writer), and their time. */
  sqliteLockWaits: number;
  sqliteLockWaitMs: number;
  /** SQLITE_BUSY errors (the busy timeout ran out). */
  sqliteBusyErrors: number;
  /** pg queries and their client-side time (round trip + server + queueing on the connection). */
  pgQueries: number;
  pgQueryMs: number;
  /** Connections asked of the pool, the time to get them, and how many took ≥ 1 ms (pool exhausted). */
  pgConnects: number;
  pgPoolWaitMs: number;
  pgPoolWaits: number;
}

export function zeroCounters(): ProbeCounters;
export function probeCounters(): ProbeCounters;
export function installSqliteProbe(): void;
export function installPgProbe(): void;
