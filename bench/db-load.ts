import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { type BenchStore, postgresAdminUrl, type Store, withAdmin } from './database.js';
import { format } from './harness.js';
import {
  installPgProbe,
  installSqliteProbe,
  type ProbeCounters,
  probeCounters,
  zeroCounters,
} from './probe.mjs';

export { zeroCounters };

/**
 * What a phase of a benchmark cost the database, measured the cheapest real way each store allows:
 *
 * - SQLite works inside the calling process: `bench/probe.mjs` times every better-sqlite3 call (the
 *   database time), the write lock held, and lock waits (a BEGIN IMMEDIATE or autocommit write that
 *   took ≥ 1 ms waited for another process's write).
 * - PostgreSQL works in its backends. Database time is `pg_stat_database.active_time` (exact: each
 *   backend adds the time it spent running statements, and flushes it within a second of going idle,
 *   so a mark waits 1.5 s for that), with `idle_in_transaction_time` and the commit and row counters
 *   beside it. The backends' CPU is read from /proc. A worker thread samples `pg_stat_activity` every
 *   20 ms for what the counters lack: which backend belongs to whom (`application_name`), lock waits
 *   (samples in which a backend waited on a heavyweight `Lock`) and the other wait events (WAL
 *   flushes, I/O). Sampling cannot measure short statements' time: on a busy 2-core machine the
 *   sampler runs when the backends it watches do not, and sees them idle.
 *   pg_stat_statements needs shared_preload_libraries, which this server lacks.
 */
export interface DbLoad {
  store: Store;
  wallMs: number;
  /** Database time: PostgreSQL, `active_time` of every session of the database; SQLite, time inside better-sqlite3. */
  dbMs: number;
  /** PostgreSQL: a transaction open while its client was busy elsewhere (`idle_in_transaction_time`). */
  idleInTransactionMs: number;
  /** PostgreSQL: samples in which a watched backend waited on a lock, and their time; SQLite: lock waits. */
  lockWaits: number;
  lockWaitMs: number;
  /** CPU time of the PostgreSQL backends watched (SQLite: inside the process, not counted apart). */
  serverCpuMs: number;
  /** SQLite: time the write lock was held (the ceiling of one writer: wall / this per unit). */
  writeLockMs: number;
  /** SQLite: of the write transactions' time, that spent inside statements (the rest ran JavaScript). */
  inTransactionMs: number;
  /** pg: time waiting for a pooled connection, and how many waits were ≥ 1 ms. */
  poolWaitMs: number;
  poolWaits: number;
  /** pg: client-side query time (round trip, server, queueing on the connection). */
  clientQueryMs: number;
  /** PostgreSQL: sampled active time by wait event (`CPU` when none), ms. */
  waitEvents: Record<string, number>;
  /** PostgreSQL: the change of `pg_stat_database`'s counters (commits, rows, deadlocks, times). */
  stats?: Record<string, number>;
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

/**
 * BENCH_PROBE=off leaves the drivers unwrapped, here and in worker children (SQLite's database time
 * and lock waits, and pg's pool waits, then read 0): for comparing with code measured without them.
 */
export const probesEnabled = process.env.BENCH_PROBE !== 'off';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  stats?: Record<string, number>;
}

/** A backend flushes its statistics at most once a second, and within a second of going idle. */
const statsSettleMs = 1500;

// The sampler runs in a worker thread: its samples then fall at times of their own, not in step with
// the benchmark's event loop (which would sample right after sending each query of the workload and
// see the backend in whatever state that moment favours). Plain CommonJS, hence the eval source.
const samplerSource = `
const { workerData, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const pg = require(workerData.pgPath);
const { database, intervalMs, ticksPerSecond } = workerData;
const apps = new Map();
const backends = new Map();
let samples = 0;
let stopped = false;
const readCpuMs = (pid) => {
  try {
    const fields = readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
};
const readBackendCpu = () => {
  for (const [pid, backend] of backends) {
    const cpuMs = readCpuMs(pid);
    if (Number.isFinite(cpuMs)) backend.cpuMs = cpuMs;
  }
};
const query = "select pid, application_name, state, wait_event_type, wait_event from pg_stat_activity " +
  "where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'";
const client = new pg.Client({ connectionString: workerData.url, application_name: 'pb-bench-monitor' });
async function sample(dt) {
  const { rows } = await client.query({ name: 'sample', text: query, values: [database] });
  samples++;
  for (const row of rows) {
    const app = row.application_name || '(none)';
    let counters = apps.get(app);
    if (!counters) {
      counters = { activeMs: 0, idleInTransactionMs: 0, lockWaits: 0, lockWaitMs: 0, waitEvents: {} };
      apps.set(app, counters);
    }
    if (!backends.has(row.pid)) backends.set(row.pid, { app, cpuMs: 0 });
    if (row.state === 'active') {
      counters.activeMs += dt;
      const event = row.wait_event_type ? row.wait_event_type + ':' + row.wait_event : 'CPU';
      counters.waitEvents[event] = (counters.waitEvents[event] || 0) + dt;
      if (row.wait_event_type === 'Lock') {
        counters.lockWaits++;
        counters.lockWaitMs += dt;
      }
    } else if (row.state && row.state.startsWith('idle in transaction')) {
      counters.idleInTransactionMs += dt;
    }
  }
  // The backends' CPU every tenth sample and at each mark: a backend that exits keeps its last value.
  if (samples % 10 === 1) readBackendCpu();
}
async function run() {
  let last = performance.now();
  while (!stopped) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, intervalMs - (performance.now() - last))));
    if (stopped) break;
    const now = performance.now();
    try {
      await sample(now - last);
    } catch {
      // A lost sample only widens the next one's interval.
    }
    last = now;
  }
}
let loop;
parentPort.on('message', async (message) => {
  if (message.type === 'mark') {
    readBackendCpu();
    parentPort.postMessage({ type: 'mark', id: message.id, samples, apps, backends });
  } else if (message.type === 'stop') {
    stopped = true;
    await loop;
    await client.end();
    parentPort.postMessage({ type: 'stopped' });
  }
});
client.connect().then(
  () => sample(0).then(() => {
    loop = run();
    parentPort.postMessage({ type: 'ready' });
  }),
  (error) => parentPort.postMessage({ type: 'error', message: String(error) }),
);
`;

interface SamplerMark {
  samples: number;
  apps: Map<string, AppCounters>;
  backends: Map<number, { app: string; cpuMs: number }>;
}

/**
 * Watches one store while a benchmark runs: `mark()` snapshots, `between(a, b)` answers the load in
 * between. For PostgreSQL a worker thread samples `pg_stat_activity`; for SQLite it reads the
 * in-process probe (child processes report theirs through `probeDelta` passed to `between`).
 */
export class LoadMeter {
  private sampler: Worker | undefined;
  private nextId = 0;

  private constructor(readonly store: BenchStore) {}

  static async start(store: BenchStore, intervalMs = 20): Promise<LoadMeter> {
    // Work done in this process is timed by the probe; children load their own.
    if (probesEnabled) {
      if (store.store === 'sqlite') installSqliteProbe();
      else installPgProbe();
    }
    const meter = new LoadMeter(store);
    if (store.store === 'postgres') {
      const sampler = new Worker(samplerSource, {
        eval: true,
        execArgv: [],
        workerData: {
          pgPath: createRequire(import.meta.url).resolve('pg'),
          url: postgresAdminUrl,
          database: store.name,
          intervalMs,
          ticksPerSecond,
        },
      });
      meter.sampler = sampler;
      await new Promise<void>((resolve, reject) => {
        sampler.once('error', reject);
        sampler.once('message', (message: { type: string; message?: string }) =>
          message.type === 'ready' ? resolve() : reject(new Error(message.message)),
        );
      });
    }
    return meter;
  }

  private samplerMark(): Promise<SamplerMark> {
    const sampler = this.sampler;
    if (!sampler) return Promise.resolve({ samples: 0, apps: new Map(), backends: new Map() });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const listener = (message: SamplerMark & { type: string; id: number }) => {
        if (message.type !== 'mark' || message.id !== id) return;
        sampler.off('message', listener);
        resolve(message);
      };
      sampler.on('message', listener);
      sampler.postMessage({ type: 'mark', id });
    });
  }

  /**
   * A snapshot. On PostgreSQL `pg_stat_database` is read 1.5 s after the last activity, so that every
   * backend has flushed its counters: a `start` mark waits first (work before it is settled, and the
   * phase begins when it returns), an `end` mark waits after taking its time (nothing may run then).
   */
  async mark(kind: 'start' | 'end'): Promise<LoadMark> {
    const isPostgres = this.store.store === 'postgres';
    if (isPostgres && kind === 'start') await sleep(statsSettleMs);
    const at = performance.now();
    const machineBusyMs = readMachineBusyMs();
    const probe = probeCounters();
    const { samples, apps, backends } = await this.samplerMark();
    if (isPostgres && kind === 'end') await sleep(statsSettleMs);
    const stats = await readDatabaseStats(this.store);
    // Start marks take their time last: reading the counters is not the phase's.
    return {
      at: kind === 'start' ? performance.now() : at,
      machineBusyMs,
      samples,
      apps,
      backends,
      probe,
      stats,
    };
  }

  /**
   * The load between two marks. `apps`: the application names whose backends' CPU, lock waits and
   * wait events count (all when absent; database time is the whole database's); `probe`: the probe counters of the processes that did the work, when they are not
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
      inTransactionMs: Number.NaN,
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
      load.inTransactionMs = probe.sqliteInTransactionMs;
      load.idleInTransactionMs = Number.NaN;
      load.serverCpuMs = Number.NaN;
      return load;
    }
    load.stats = statsDelta(a.stats, b.stats);
    load.dbMs = load.stats?.active_time ?? Number.NaN;
    load.idleInTransactionMs = load.stats?.idle_in_transaction_time ?? Number.NaN;
    for (const [app, end] of b.apps) {
      if (!counts(app)) continue;
      const start = a.apps.get(app);
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
    const sampler = this.sampler;
    if (!sampler) return;
    await new Promise<void>((resolve) => {
      sampler.on('message', (message: { type: string }) => {
        if (message.type === 'stopped') resolve();
      });
      sampler.postMessage({ type: 'stop' });
    });
    await sampler.terminate();
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

/**
 * The waits inside PostgreSQL seen by the sampler (wait events of active backends other than none),
 * the largest first, in ms per unit. A sampled estimate: waiting backends are off the CPU, so the
 * sampler sees them fairly, unlike running ones.
 */
export function describeWaitEvents(load: DbLoad, units: number, top = 3): string {
  const waits = Object.entries(load.waitEvents).filter(([event]) => event !== 'CPU');
  if (waits.length === 0) return 'none seen';
  return waits
    .sort(([, x], [, y]) => y - x)
    .slice(0, top)
    .map(([event, ms]) => `${event} ${msPer(ms / units)}`)
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

/**
 * Rows each table's scans read so far (`pg_stat_user_tables`: sequential scans' rows and index
 * scans' fetches; PostgreSQL only), read on a connection to the database itself.
 */
export async function readTableStats(store: BenchStore): Promise<Record<string, Record<string, number>>> {
  if (store.store !== 'postgres') return {};
  const client = new pg.Client({ connectionString: store.url, application_name: 'pb-bench-admin' });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select t.relname, t.seq_scan, t.seq_tup_read, t.idx_scan, t.idx_tup_fetch, t.n_tup_ins, t.n_tup_upd,
         t.n_tup_hot_upd, t.n_tup_del, t.n_dead_tup,
         (select coalesce(sum(i.idx_tup_read), 0) from pg_stat_user_indexes i where i.relid = t.relid) as idx_tup_read
       from pg_stat_user_tables t`,
    );
    return Object.fromEntries(
      rows.map((row) => [
        row.relname as string,
        Object.fromEntries(
          Object.entries(row)
            .filter(([key]) => key !== 'relname')
            .map(([key, value]) => [key, Number(value)]),
        ),
      ]),
    );
  } finally {
    await client.end();
  }
}

/** b − a for each table's counters. */
export function tableStatsDelta(
  a: Record<string, Record<string, number>>,
  b: Record<string, Record<string, number>>,
): Record<string, Record<string, number>> {
  return Object.fromEntries(
    Object.entries(b).map(([table, counters]) => [
      table,
      Object.fromEntries(
        Object.entries(counters).map(([key, value]) => [key, value - (a[table]?.[key] ?? 0)]),
      ),
    ]),
  );
}
