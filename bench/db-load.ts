import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { type BenchStore, postgresAdminUrl, type Store, withAdmin } from './database.js';
import { format } from './harness.js';
import { installPgProbe, installSqliteProbe, type ProbeCounters, probeCounters } from './probe.mjs';

/**
 * What a phase of a benchmark cost the database, measured the cheapest real way each store allows:
 *
 * - SQLite works inside the calling process: `bench/probe.mjs` times every better-sqlite3 call (the
 *   database time), the write lock held, and lock waits (a BEGIN IMMEDIATE or autocommit write that
 *   took ≥ 1 ms waited for another process's write).
 * - PostgreSQL works in its backends: `pg_stat_activity` is sampled every 20 ms (one query on a
 *   connection of its own); each sample credits the time since the previous one to every backend of
 *   the database by its state (active, idle in transaction) and wait event (a heavyweight `Lock` is a
 *   lock wait), by `application_name` (the benchmarks name workers `pb-worker`). The backends' CPU is
 *   read from /proc. pg_stat_statements needs shared_preload_libraries, which this server lacks.
 */
export interface DbLoad {
  store: Store;
  wallMs: number;
  /** Database time: PostgreSQL, sampled active time of the backends watched; SQLite, time inside better-sqlite3. */
  dbMs: number;
  /** PostgreSQL: a transaction open while its client was busy elsewhere (sampled). */
  idleInTransactionMs: number;
  /** PostgreSQL: samples in which a watched backend waited on a lock, and their time; SQLite: lock waits. */
  lockWaits: number;
  lockWaitMs: number;
  /** CPU time of the PostgreSQL backends watched (SQLite: inside the process, not counted apart). */
  serverCpuMs: number;
  /** SQLite: time the write lock was held (the ceiling of one writer: wall / this per unit). */
  writeLockMs: number;
  /** pg: time waiting for a pooled connection, and how many waits were ≥ 1 ms. */
  poolWaitMs: number;
  poolWaits: number;
  /** pg: client-side query time (round trip, server, queueing on the connection). */
  clientQueryMs: number;
  /** PostgreSQL: active time by wait event (`CPU` when none), ms. */
  waitEvents: Record<string, number>;
  /** Busy CPU time of the whole machine, all cores, ms (other work on the machine included). */
  machineBusyMs: number;
  samples: number;
}

/** Clock ticks per second of /proc/<pid>/stat (100 on Linux unless a kernel is built otherwise). */
const ticksPerSecond = 100;

/** CPU time (user + system) of a process so far, from /proc; NaN once it has exited. */
export function readCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** Busy CPU time of the whole machine so far, all cores, in ms (/proc/stat: all but idle and iowait). */
export function readMachineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((sum, n) => sum + n, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return ((total - idle) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

const zeroCounters = (): ProbeCounters => ({
  sqliteCalls: 0,
  sqliteMs: 0,
  sqliteWriteLockMs: 0,
  sqliteLockWaits: 0,
  sqliteLockWaitMs: 0,
  sqliteBusyErrors: 0,
  pgQueries: 0,
  pgQueryMs: 0,
  pgConnects: 0,
  pgPoolWaitMs: 0,
  pgPoolWaits: 0,
});

/** b − a, field by field. */
export function probeDelta(a: ProbeCounters, b: ProbeCounters): ProbeCounters {
  const delta = zeroCounters();
  for (const key of Object.keys(delta) as (keyof ProbeCounters)[]) delta[key] = b[key] - a[key];
  return delta;
}

export function probeSum(all: readonly ProbeCounters[]): ProbeCounters {
  const sum = zeroCounters();
  for (const counters of all)
    for (const key of Object.keys(sum) as (keyof ProbeCounters)[]) sum[key] += counters[key];
  return sum;
}

interface AppCounters {
  activeMs: number;
  idleInTransactionMs: number;
  lockWaits: number;
  lockWaitMs: number;
  waitEvents: Record<string, number>;
}

export interface LoadMark {
  at: number;
  machineBusyMs: number;
  samples: number;
  apps: Map<string, AppCounters>;
  /** CPU ms of each backend seen, with its application_name. */
  backends: Map<number, { app: string; cpuMs: number }>;
  probe: ProbeCounters;
}

const copyApps = (apps: Map<string, AppCounters>) =>
  new Map([...apps].map(([app, c]) => [app, { ...c, waitEvents: { ...c.waitEvents } }]));

const sampleQuery = `select pid, application_name, state, wait_event_type, wait_event from pg_stat_activity
  where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'`;

/**
 * Watches one store while a benchmark runs: `mark()` snapshots, `between(a, b)` answers the load in
 * between. For PostgreSQL it samples `pg_stat_activity` in the background; for SQLite it reads the
 * in-process probe (child processes report theirs through `probeDelta` passed to `between`).
 */
export class LoadMeter {
  private client: pg.Client | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private samples = 0;
  private readonly apps = new Map<string, AppCounters>();
  private readonly backends = new Map<number, { app: string; cpuMs: number }>();

  private constructor(
    readonly store: BenchStore,
    private readonly intervalMs: number,
  ) {}

  static async start(store: BenchStore, intervalMs = 20): Promise<LoadMeter> {
    // Work done in this process is timed by the probe; children load their own.
    if (store.store === 'sqlite') installSqliteProbe();
    else installPgProbe();
    const meter = new LoadMeter(store, intervalMs);
    if (store.store === 'postgres') {
      meter.client = new pg.Client({
        connectionString: postgresAdminUrl,
        application_name: 'pb-bench-monitor',
      });
      await meter.client.connect();
      await meter.sample(0);
      meter.loop = meter.run();
    }
    return meter;
  }

  private async sample(dt: number) {
    const client = this.client as pg.Client;
    const { rows } = await client.query<{
      pid: number;
      application_name: string;
      state: string | null;
      wait_event_type: string | null;
      wait_event: string | null;
    }>(sampleQuery, [this.store.name]);
    this.samples++;
    for (const row of rows) {
      const app = row.application_name || '(none)';
      let counters = this.apps.get(app);
      if (!counters) {
        counters = { activeMs: 0, idleInTransactionMs: 0, lockWaits: 0, lockWaitMs: 0, waitEvents: {} };
        this.apps.set(app, counters);
      }
      if (!this.backends.has(row.pid)) this.backends.set(row.pid, { app, cpuMs: 0 });
      if (row.state === 'active') {
        counters.activeMs += dt;
        const event = row.wait_event_type ? `${row.wait_event_type}:${row.wait_event}` : 'CPU';
        counters.waitEvents[event] = (counters.waitEvents[event] ?? 0) + dt;
        if (row.wait_event_type === 'Lock') {
          counters.lockWaits++;
          counters.lockWaitMs += dt;
        }
      } else if (row.state?.startsWith('idle in transaction')) {
        counters.idleInTransactionMs += dt;
      }
    }
    // The backends' CPU, every tenth sample and at each mark: a backend that exits keeps its last value.
    if (this.samples % 10 === 1) this.readBackendCpu();
  }

  private readBackendCpu() {
    for (const [pid, backend] of this.backends) {
      const cpuMs = readCpuMs(pid);
      if (Number.isFinite(cpuMs)) backend.cpuMs = cpuMs;
    }
  }

  private async run() {
    let last = performance.now();
    while (!this.stopped) {
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, this.intervalMs - (started - last))));
      if (this.stopped) break;
      const now = performance.now();
      try {
        await this.sample(now - last);
      } catch {
        // A sample lost (the server busy or restarting) only widens the next one's interval.
      }
      last = now;
    }
  }

  mark(): LoadMark {
    if (this.client) this.readBackendCpu();
    return {
      at: performance.now(),
      machineBusyMs: readMachineBusyMs(),
      samples: this.samples,
      apps: copyApps(this.apps),
      backends: new Map([...this.backends].map(([pid, b]) => [pid, { ...b }])),
      probe: probeCounters(),
    };
  }

  /**
   * The load between two marks. `apps`: the application names whose backends count (all when
   * absent); `probe`: the probe counters of the processes that did the work, when they are not
   * this one (worker children).
   */
  between(
    a: LoadMark,
    b: LoadMark,
    options: { apps?: readonly string[]; probe?: ProbeCounters } = {},
  ): DbLoad {
    const counts = (app: string) => options.apps === undefined || options.apps.includes(app);
    const probe = options.probe ?? probeDelta(a.probe, b.probe);
    const load: DbLoad = {
      store: this.store.store,
      wallMs: b.at - a.at,
      dbMs: 0,
      idleInTransactionMs: 0,
      lockWaits: 0,
      lockWaitMs: 0,
      serverCpuMs: 0,
      writeLockMs: 0,
      poolWaitMs: probe.pgPoolWaitMs,
      poolWaits: probe.pgPoolWaits,
      clientQueryMs: probe.pgQueryMs,
      waitEvents: {},
      machineBusyMs: b.machineBusyMs - a.machineBusyMs,
      samples: b.samples - a.samples,
    };
    if (this.store.store === 'sqlite') {
      load.dbMs = probe.sqliteMs;
      load.lockWaits = probe.sqliteLockWaits;
      load.lockWaitMs = probe.sqliteLockWaitMs;
      load.writeLockMs = probe.sqliteWriteLockMs;
      load.idleInTransactionMs = Number.NaN;
      load.serverCpuMs = Number.NaN;
      return load;
    }
    for (const [app, end] of b.apps) {
      if (!counts(app)) continue;
      const start = a.apps.get(app);
      load.dbMs += end.activeMs - (start?.activeMs ?? 0);
      load.idleInTransactionMs += end.idleInTransactionMs - (start?.idleInTransactionMs ?? 0);
      load.lockWaits += end.lockWaits - (start?.lockWaits ?? 0);
      load.lockWaitMs += end.lockWaitMs - (start?.lockWaitMs ?? 0);
      for (const [event, ms] of Object.entries(end.waitEvents)) {
        const delta = ms - (start?.waitEvents[event] ?? 0);
        if (delta > 0) load.waitEvents[event] = (load.waitEvents[event] ?? 0) + delta;
      }
    }
    for (const [pid, backend] of b.backends) {
      if (!counts(backend.app)) continue;
      load.serverCpuMs += backend.cpuMs - (a.backends.get(pid)?.cpuMs ?? 0);
    }
    load.writeLockMs = Number.NaN;
    return load;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.client?.end();
  }
}

/** Exact counters of one PostgreSQL database (`pg_stat_database`; flushed by a backend when idle or exiting). */
export async function readDatabaseStats(store: BenchStore) {
  if (store.store !== 'postgres') return undefined;
  return withAdmin(async (client) => {
    const { rows } = await client.query(
      `select xact_commit, xact_rollback, deadlocks, active_time, idle_in_transaction_time, tup_inserted,
         tup_updated, tup_deleted, tup_returned, tup_fetched, blks_read, blks_hit
       from pg_stat_database where datname = $1`,
      [store.name],
    );
    const row = rows[0] ?? {};
    return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])) as Record<
      string,
      number
    >;
  });
}

export const statsDelta = (a: Record<string, number> | undefined, b: Record<string, number> | undefined) =>
  a && b
    ? Object.fromEntries(Object.entries(b).map(([key, value]) => [key, value - (a[key] ?? 0)]))
    : undefined;

/** Waits until no backend is connected to the database (so every one has flushed its statistics). */
export async function waitForBackendsToExit(store: BenchStore, timeoutMs = 10_000): Promise<void> {
  if (store.store !== 'postgres') return;
  await withAdmin(async (client) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { rows } = await client.query(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [store.name],
      );
      if (rows[0]?.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The statistics of an exiting backend are written as it exits; give the last one a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
}

/** Wait events (`CPU` when none) of the active samples, the largest first, as shares. */
export function describeWaitEvents(load: DbLoad, top = 3): string {
  const total = Object.values(load.waitEvents).reduce((sum, ms) => sum + ms, 0);
  if (total === 0) return '–';
  return Object.entries(load.waitEvents)
    .sort(([, x], [, y]) => y - x)
    .slice(0, top)
    .map(([event, ms]) => `${event} ${Math.round((ms / total) * 100)} %`)
    .join(', ');
}

/** Per-unit figures of a load (per digest, per request, per paper), in ms. */
export function perUnit(load: DbLoad, units: number) {
  return {
    dbMs: load.dbMs / units,
    serverCpuMs: load.serverCpuMs / units,
    idleInTransactionMs: load.idleInTransactionMs / units,
    writeLockMs: load.writeLockMs / units,
    poolWaitMs: load.poolWaitMs / units,
  };
}

/** Cores the machine had busy on average over the load's wall time. */
export const machineCores = (load: DbLoad) => load.machineBusyMs / load.wallMs;
export const cores = availableParallelism();

/** "n (t ms)" for lock waits, or n/a when the store cannot have them in this set-up. */
export const formatLockWaits = (load: DbLoad) =>
  `${format.count(load.lockWaits)}${load.lockWaits > 0 ? ` (${format.ms(load.lockWaitMs)})` : ''}`;

export const msPer = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(ms < 1 ? 3 : 2)} ms` : 'n/a');
