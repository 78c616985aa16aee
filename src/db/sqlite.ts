import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { Db, Row } from './client.js';
import { compile, type Sql } from './sql.js';

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '../../migrations/sqlite');

/**
 * The database holds every address and each subscriber's token salt: owner only. Directories
 * paperboy creates are 0700; one that already exists is left alone (DATABASE_URL may point into a
 * shared directory). The file itself is created 0600 before SQLite opens it (SQLite would make it
 * 0644), and tightened if it is looser; SQLite gives its -wal and -shm files the main file's mode.
 */
function prepareDatabaseFile(path: string) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Left-over -wal/-shm files of a looser earlier run keep their mode unless tightened too.
  // Only files we own: chmod on another user's file would fail, and is theirs to decide.
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    const stats = statSync(file, { throwIfNoEntry: false });
    const isLoose = stats !== undefined && stats.uid === process.getuid?.() && (stats.mode & 0o077) !== 0;
    if (isLoose) chmodSync(file, stats.mode & 0o700);
  }
}

type Mode = 'rows' | 'pluck' | 'raw';

interface Group {
  /** Resolves when the group's COMMIT succeeded, rejects when it failed. */
  committed: Promise<void>;
  /** Resolves either way. */
  settled: Promise<void>;
  /** Its COMMIT is due: transactions begun now open the next group. */
  isClosing: boolean;
}

/**
 * One connection per file, shared by everything in the process (several `openSqlite` of one file
 * get the same one). Statements are compiled once and reused (a digest send runs a dozen; compiling
 * them each time cost more than running them). While a transaction is open, calls from outside it
 * wait: on one connection they would otherwise land inside it. (Two connections in one process
 * would deadlock: the second's `BEGIN IMMEDIATE` blocks the thread the first needs to commit.)
 *
 * Transactions begun in one turn of the event loop share one SQLite transaction (group commit): each
 * runs in a savepoint of its own (rolled back alone when it fails), and one COMMIT at the end of the
 * turn writes their pages to the WAL once, instead of once per transaction: concurrent writes, such
 * as subscribe requests, touch the same last pages of each table and index. Each transaction's
 * promise settles only after that COMMIT, so a caller acts on its writes only once they are committed.
 */
class Connection {
  readonly statements = new Map<string, Database.Statement>();
  /** A transaction's body is running: everyone else waits. */
  busy: Promise<void> | undefined;
  /** The open SQLite transaction that finished bodies wait in, until the end of the turn. */
  group: Group | undefined;
  users = 0;
  private readonly savepoint: Record<'begin' | 'release' | 'rollback', Database.Statement>;

  constructor(
    readonly sqlite: Database.Database,
    readonly path: string,
  ) {
    this.savepoint = {
      begin: sqlite.prepare('savepoint pb_tx'),
      release: sqlite.prepare('release pb_tx'),
      rollback: sqlite.prepare('rollback to pb_tx'),
    };
  }

  /** What a call from outside any transaction waits for before it runs; undefined when nothing. */
  get pending(): Promise<void> | undefined {
    return this.busy ?? this.group?.settled;
  }

  /** Runs one transaction's body in a savepoint of the turn's group; settles once the group commits. */
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    // One body at a time; a group already committing is not joined.
    while (this.busy !== undefined || this.group?.isClosing) await this.pending;
    const group = this.group ?? this.openGroup();
    let release = () => {};
    this.busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    let result: T;
    try {
      this.savepoint.begin.run();
      try {
        result = await fn(new SqliteDb(this, true));
        this.savepoint.release.run();
      } catch (error) {
        // Some errors (I/O, a full disk) make SQLite roll back the whole transaction: then the group's
        // COMMIT fails, and every transaction in it with it.
        if (this.sqlite.inTransaction) {
          this.savepoint.rollback.run();
          this.savepoint.release.run();
        }
        throw error;
      }
    } finally {
      this.busy = undefined;
      release();
    }
    await group.committed;
    return result;
  }

  private openGroup(): Group {
    this.sqlite.exec('BEGIN IMMEDIATE');
    let commit = () => {};
    let fail = (_error: unknown) => {};
    const committed = new Promise<void>((resolve, reject) => {
      commit = resolve;
      fail = reject;
    });
    committed.catch(() => {}); // awaited only by the bodies that succeeded, if any
    const group: Group = { committed, settled: committed.catch(() => {}), isClosing: false };
    this.group = group;
    setImmediate(async () => {
      group.isClosing = true;
      // A body still running here awaited something other than this database; it finishes first.
      while (this.busy !== undefined) await this.busy;
      try {
        if (!this.sqlite.inTransaction) throw new Error('SQLite rolled the transaction back after an error');
        this.sqlite.exec('COMMIT');
        commit();
      } catch (error) {
        try {
          if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
        } catch {
          // The COMMIT's error is the one the transactions report.
        }
        fail(error);
      } finally {
        this.group = undefined;
      }
    });
    return group;
  }

  statement(text: string, mode: Mode): Database.Statement {
    const key = mode === 'rows' ? text : `${mode}:${text}`;
    let statement = this.statements.get(key);
    if (!statement) {
      // Texts are the code's own (values are bound), so the set is small; clear it if not.
      if (this.statements.size >= 2000) this.statements.clear();
      statement = this.sqlite.prepare(text);
      if (mode === 'pluck') statement.pluck();
      if (mode === 'raw') statement.raw();
      this.statements.set(key, statement);
    }
    return statement;
  }
}

class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private closed = false;

  constructor(
    private readonly connection: Connection,
    readonly isTransaction: boolean,
  ) {}

  /** Runs `work` now, or once the open transaction (of another caller) has finished. */
  private exec<T>(query: Sql, mode: Mode, work: (statement: Database.Statement, values: unknown[]) => T) {
    const pending = this.isTransaction ? undefined : this.connection.pending;
    if (pending !== undefined) return pending.then((): Promise<T> => this.exec(query, mode, work));
    try {
      const { text, values } = compile(query, 'sqlite');
      return Promise.resolve(work(this.connection.statement(text, mode), values));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  all<T = Row>(query: Sql): Promise<T[]> {
    return this.exec(query, 'rows', (statement, values) => statement.all(...values) as T[]);
  }

  get<T = Row>(query: Sql): Promise<T | undefined> {
    return this.exec(query, 'rows', (statement, values) => statement.get(...values) as T | undefined);
  }

  column<T = unknown>(query: Sql): Promise<T[]> {
    return this.exec(query, 'pluck', (statement, values) => statement.all(...values) as T[]);
  }

  tuples<T extends readonly unknown[]>(query: Sql): Promise<T[]> {
    return this.exec(query, 'raw', (statement, values) => statement.all(...values) as T[]);
  }

  value<T = unknown>(query: Sql): Promise<T | undefined> {
    return this.exec(query, 'pluck', (statement, values) => statement.get(...values) as T | undefined);
  }

  run(query: Sql): Promise<number> {
    return this.exec(query, 'rows', (statement, values) => statement.run(...values).changes);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.isTransaction) return fn(this);
    return this.connection.transaction(fn);
  }

  async ping(): Promise<void> {
    this.connection.sqlite.prepare('select 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connection = this.connection;
    connection.users--;
    if (connection.users > 0) return;
    // Transactions still waiting for their group's COMMIT get it before the connection goes.
    while (connection.pending !== undefined) await connection.pending;
    if (connections.get(connection.path) === connection) connections.delete(connection.path);
    connection.sqlite.close();
  }

  /** The driver's handle, for the migrator only. */
  get client(): Database.Database {
    return this.connection.sqlite;
  }
}

const connections = new Map<string, Connection>();

/** Opens the SQLite file (or joins this process's connection to it) with the pragmas a busy multi-process service needs. */
export function openSqlite(path: string): Db {
  const key = path === ':memory:' ? undefined : resolve(path);
  let connection = key === undefined ? undefined : connections.get(key);
  if (!connection) {
    if (key !== undefined) prepareDatabaseFile(path);
    const sqlite = new Database(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // Several processes (serve, worker) share one file: wait for a writer instead of failing.
    sqlite.pragma('busy_timeout = 5000');
    connection = new Connection(sqlite, key ?? ':memory:');
    if (key !== undefined) connections.set(key, connection);
  }
  connection.users++;
  return new SqliteDb(connection, false);
}

export async function migrateSqlite(db: Db): Promise<void> {
  migrate(drizzle({ client: (db as SqliteDb).client }), { migrationsFolder });
}
