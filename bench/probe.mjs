// Database probes for the benchmarks, in plain JavaScript so that a `paperboy worker` child can load
// it with `node --import` before its own tsx loader exists. It wraps the drivers' prototypes (never
// paperboy's code) and only adds to counters: two `performance.now()` calls per database call.
//
// - better-sqlite3: time inside every statement call and `exec` (SQLite works synchronously, so that
//   is the database time of the process), the time the write lock was held (BEGIN IMMEDIATE to
//   COMMIT, and autocommit writes), and lock waits: a BEGIN IMMEDIATE or autocommit write that took
//   ≥ 1 ms (uncontended they take microseconds; SQLite's busy handler sleeps at least 1 ms).
// - pg: time from asking the pool for a connection to getting one (pool waits), and the client-side
//   time of every query (round trip, server work and any wait behind other queries of the client).
//
// Loaded with `--import` and BENCH_PROBE_FILE set, it installs both and writes its counters as JSON
// to that file on SIGUSR2 (a mark: `seq` counts them) and when the process exits.
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const lockWaitMs = 1;

/** Every counter at zero. @returns {import('./probe.d.mts').ProbeCounters} */
export const zeroCounters = () => ({
  sqliteCalls: 0,
  sqliteMs: 0,
  sqliteWriteLockMs: 0,
  sqliteInTransactionMs: 0,
  sqliteLockWaits: 0,
  sqliteLockWaitMs: 0,
  sqliteBusyErrors: 0,
  pgQueries: 0,
  pgQueryMs: 0,
  pgConnects: 0,
  pgPoolWaitMs: 0,
  pgPoolWaits: 0,
});

const counters = zeroCounters();

let sqliteInstalled = false;
let pgInstalled = false;

export function probeCounters() {
  return { ...counters };
}

export function installSqliteProbe() {
  if (sqliteInstalled) return;
  sqliteInstalled = true;
  const Database = require('better-sqlite3');
  const scratch = new Database(':memory:');
  const statementPrototype = Object.getPrototypeOf(scratch.prepare('select 1'));
  scratch.close();
  /** @type {WeakMap<object, number>} when each connection's write transaction began */
  const writeSince = new WeakMap();

  const timed = (fn, isWrite) =>
    function (...args) {
      const start = performance.now();
      try {
        return fn.apply(this, args);
      } catch (error) {
        if (error && /** @type {{ code?: string }} */ (error).code?.startsWith('SQLITE_BUSY'))
          counters.sqliteBusyErrors++;
        throw error;
      } finally {
        const ms = performance.now() - start;
        counters.sqliteCalls++;
        counters.sqliteMs += ms;
        if (this.database.inTransaction) counters.sqliteInTransactionMs += ms;
        // An autocommit write that took ≥ 1 ms waited for the lock (or ran a checkpoint): a lock
        // wait, whose time is not counted as holding the lock; a quick one held it for its time.
        if (isWrite(this)) {
          if (ms >= lockWaitMs) {
            counters.sqliteLockWaits++;
            counters.sqliteLockWaitMs += ms;
          } else counters.sqliteWriteLockMs += ms;
        }
      }
    };
  // An autocommit write takes and releases the write lock itself; one inside BEGIN IMMEDIATE is
  // counted with its transaction.
  const isAutocommitWrite = (statement) => !statement.reader && !statement.database.inTransaction;
  for (const name of ['run', 'get', 'all']) {
    const original = statementPrototype[name];
    statementPrototype[name] = timed(original, isAutocommitWrite);
  }
  const exec = Database.prototype.exec;
  Database.prototype.exec = function (source, ...rest) {
    const text = typeof source === 'string' ? source.trim().toUpperCase() : '';
    const isBegin = text.startsWith('BEGIN IMMEDIATE') || text.startsWith('BEGIN EXCLUSIVE');
    const isEnd = text.startsWith('COMMIT') || text.startsWith('ROLLBACK') || text.startsWith('END');
    const start = performance.now();
    try {
      return exec.call(this, source, ...rest);
    } catch (error) {
      if (error && /** @type {{ code?: string }} */ (error).code?.startsWith('SQLITE_BUSY'))
        counters.sqliteBusyErrors++;
      throw error;
    } finally {
      const end = performance.now();
      const ms = end - start;
      counters.sqliteCalls++;
      counters.sqliteMs += ms;
      if (isBegin) {
        if (ms >= lockWaitMs) {
          counters.sqliteLockWaits++;
          counters.sqliteLockWaitMs += ms;
        }
        if (this.inTransaction) writeSince.set(this, end);
      } else if (isEnd) {
        const since = writeSince.get(this);
        if (since !== undefined && !this.inTransaction) {
          counters.sqliteWriteLockMs += end - since;
          writeSince.delete(this);
        }
      }
    }
  };
}

export function installPgProbe() {
  if (pgInstalled) return;
  pgInstalled = true;
  const pg = require('pg');
  const connect = pg.Pool.prototype.connect;
  const countConnect = (start) => {
    const ms = performance.now() - start;
    counters.pgConnects++;
    counters.pgPoolWaitMs += ms;
    if (ms >= lockWaitMs) counters.pgPoolWaits++;
  };
  pg.Pool.prototype.connect = function (callback) {
    const start = performance.now();
    if (typeof callback === 'function') {
      return connect.call(this, (error, client, release) => {
        countConnect(start);
        callback(error, client, release);
      });
    }
    return connect.call(this).then((client) => {
      countConnect(start);
      return client;
    });
  };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (...args) {
    const start = performance.now();
    const done = () => {
      counters.pgQueries++;
      counters.pgQueryMs += performance.now() - start;
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last];
      args[last] = (...results) => {
        done();
        callback(...results);
      };
      return query.apply(this, args);
    }
    const config = args[0];
    if (config && typeof config === 'object' && typeof config.callback === 'function') {
      const callback = config.callback;
      config.callback = (...results) => {
        done();
        callback(...results);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args);
    if (result && typeof result.then === 'function') {
      result.then(done, done);
    }
    return result;
  };
}

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  installSqliteProbe();
  installPgProbe();
  let seq = 0;
  const write = (final) => {
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ seq: ++seq, final, counters }));
    renameSync(temporary, file);
  };
  process.on('SIGUSR2', () => write(false));
  process.on('exit', () => write(true));
}
