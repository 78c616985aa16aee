import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Store } from './database.js';

/** What the runner hands every benchmark. */
export interface BenchOptions {
  /** Runs before the measured ones, reported as the cold run but left out of medians. */
  warmup: number;
  /** Measured repetitions; medians are taken over these. */
  runs: number;
  /** Seed of the generated data, so two runs measure the same workload. */
  seed: number;
  /** Sizes after command-line overrides (`--subscribers 1000000`), by name. */
  sizes: Record<string, number>;
  /** Progress lines; they go to stderr so the tables stay clean. */
  log: (message: string) => void;
  /** The store to run on (`--db`); only one the benchmark lists in `stores`. */
  store: Store;
}

export interface Column {
  key: string;
  header: string;
  /** Numbers read best right-aligned; the default. */
  align?: 'left' | 'right';
}

export interface Table {
  title: string;
  columns: Column[];
  rows: Record<string, string>[];
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  isMet: boolean;
}

export interface BenchResult {
  tables: Table[];
  targets: TargetCheck[];
  /** One-line remarks printed under the tables (what a figure means, what was extrapolated). */
  notes: string[];
  /** Raw figures for the JSON file, in plain units (ms, bytes, counts). */
  data: Record<string, unknown>;
  /** The headline figures, printed side by side when the benchmark runs on several stores (`--db both`). */
  summary?: SummaryRow[];
  /** What bounds the measured rate on this store, one line each, with the figures that say so. */
  bounds?: string[];
}

export interface SummaryRow {
  what: string;
  /** The figure, formatted. */
  text: string;
  /** The figure as a number, for the ratio between stores (NaN: no ratio). */
  value: number;
}

export interface Benchmark {
  name: string;
  description: string;
  /** The sizes this benchmark reads, each overridable as `--<name> <number>`. */
  sizes: Record<string, { default: number; description: string }>;
  /** The stores it runs on (`--db`); SQLite only when absent. An empty list: it uses no database. */
  stores?: readonly Store[];
  run(options: BenchOptions): Promise<BenchResult>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Collects garbage when node runs with --expose-gc, so each phase starts from the same heap. */
export function collectGarbage(): void {
  globalThis.gc?.();
}

export interface Repetition<T> {
  isWarmup: boolean;
  ms: number;
  /** RSS when the run started (after a GC) and the highest RSS seen while it ran, in bytes. */
  startRss: number;
  peakRss: number;
  /** CPU time of the process over wall time: well under 1 means other processes took the CPU. */
  cpuShare: number;
  value: T;
}

/** Starts one timed repetition after a GC; the returned function ends it with the run's value. */
function startRepetition(sampler: RssSampler) {
  collectGarbage();
  const startRss = sampler.reset();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  return <T>(isWarmup: boolean, value: T): Repetition<T> => {
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    return {
      isWarmup,
      ms,
      startRss,
      peakRss: sampler.peak(),
      cpuShare: (cpu.user + cpu.system) / 1000 / ms,
      value,
    };
  };
}

/**
 * Runs `fn` `warmup + runs` times, each after a GC, timing it and watching its peak RSS. The first
 * repetition is the cold one: the code is not yet optimised, the caches are empty.
 */
export function repeat<T>(
  sampler: RssSampler,
  counts: { warmup: number; runs: number },
  fn: () => T,
): Repetition<T>[] {
  const repetitions: Repetition<T>[] = [];
  for (let i = 0; i < counts.warmup + counts.runs; i++) {
    const finish = startRepetition(sampler);
    repetitions.push(finish(i < counts.warmup, fn()));
  }
  return repetitions;
}

/**
 * `repeat` for work that reads the database: each run is awaited before the next one starts. On
 * SQLite a query answers at once and only its promise waits, so the time is still the work's.
 */
export async function repeatAsync<T>(
  sampler: RssSampler,
  counts: { warmup: number; runs: number },
  fn: () => Promise<T>,
): Promise<Repetition<T>[]> {
  const repetitions: Repetition<T>[] = [];
  for (let i = 0; i < counts.warmup + counts.runs; i++) {
    const finish = startRepetition(sampler);
    repetitions.push(finish(i < counts.warmup, await fn()));
  }
  return repetitions;
}

export const measured = <T>(repetitions: readonly Repetition<T>[]) => repetitions.filter((r) => !r.isWarmup);

/** Median time, cold (first) time and median RSS growth of a set of repetitions. */
export function summarize<T>(repetitions: readonly Repetition<T>[]) {
  const kept = measured(repetitions);
  return {
    coldMs: repetitions[0]?.ms ?? Number.NaN,
    medianMs: median(kept.map((r) => r.ms)),
    minMs: Math.min(...kept.map((r) => r.ms)),
    maxMs: Math.max(...kept.map((r) => r.ms)),
    peakRss: Math.max(...repetitions.map((r) => r.peakRss)),
    medianRssGrowth: median(kept.map((r) => r.peakRss - r.startRss)),
    lowestCpuShare: Math.min(...repetitions.map((r) => r.cpuShare)),
    runs: kept.map((r) => Math.round(r.ms * 10) / 10),
  };
}

export interface RssSampler {
  /** Starts a new window; returns the RSS now. */
  reset(): number;
  /** The highest RSS seen since the last reset, including a sample taken now. */
  peak(): number;
  stop(): Promise<void>;
}

// The measured code is synchronous (better-sqlite3, the matcher), so a timer on the main thread
// would never fire during it. RSS is per process, so a worker thread can watch it instead.
const samplerSource = `
const { workerData } = require('node:worker_threads');
const peak = new Int32Array(workerData.buffer);
setInterval(() => {
  const kb = Math.round(process.memoryUsage.rss() / 1024);
  for (;;) {
    const current = Atomics.load(peak, 0);
    if (kb <= current || Atomics.compareExchange(peak, 0, current, kb) === current) break;
  }
}, workerData.intervalMs);
`;

/** Samples the process's RSS every `intervalMs` from a worker thread; the peak is kept in KiB. */
export async function startRssSampler(intervalMs = 5): Promise<RssSampler> {
  const buffer = new SharedArrayBuffer(4);
  const peakKb = new Int32Array(buffer);
  const worker = new Worker(samplerSource, { eval: true, execArgv: [], workerData: { buffer, intervalMs } });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  const sampleNow = () => {
    const kb = Math.round(process.memoryUsage.rss() / 1024);
    if (kb > Atomics.load(peakKb, 0)) Atomics.store(peakKb, 0, kb);
    return kb * 1024;
  };
  return {
    reset() {
      Atomics.store(peakKb, 0, 0);
      return sampleNow();
    },
    peak() {
      sampleNow();
      return Atomics.load(peakKb, 0) * 1024;
    },
    async stop() {
      await worker.terminate();
    },
  };
}

/** The process's peak RSS since it started, as the kernel counts it, in bytes. */
/** Another process's resident memory now and at its peak (VmRSS, VmHWM), in bytes; undefined once it has exited. */
export function readProcStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

export const processMaxRss = () => process.resourceUsage().maxRSS * 1024;

/**
 * Below this CPU share a synchronous run was waiting for the CPU, not working: another process was
 * busy (a test suite, a build), and the time says more about it than about the code.
 */
export const contendedCpuShare = 0.85;

export const format = {
  ms: (ms: number) =>
    !Number.isFinite(ms)
      ? '–'
      : ms >= 10_000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`,
  us: (us: number) => (Number.isFinite(us) ? `${us.toFixed(us < 10 ? 2 : 1)} µs` : '–'),
  share: (share: number) => (Number.isFinite(share) ? share.toFixed(2) : '–'),
  mb: (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MB` : '–'),
  count: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'),
  perSecond: (n: number) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')}/s` : '–'),
};

/** The table as aligned plain text. */
export function renderTable(table: Table): string {
  const widths = table.columns.map((column) =>
    Math.max(column.header.length, ...table.rows.map((row) => (row[column.key] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] as number;
        return table.columns[i]?.align === 'left' ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  return [
    table.title,
    line(table.columns.map((column) => column.header)),
    line(widths.map((width) => '-'.repeat(width))),
    ...table.rows.map((row) => line(table.columns.map((column) => row[column.key] ?? ''))),
  ].join('\n');
}

export function renderTargets(targets: readonly TargetCheck[]): Table {
  return {
    title: 'Targets',
    columns: [
      { key: 'name', header: 'target', align: 'left' },
      { key: 'target', header: 'limit' },
      { key: 'measured', header: 'measured' },
      { key: 'verdict', header: 'result', align: 'left' },
    ],
    rows: targets.map((t) => ({
      name: t.name,
      target: t.target,
      measured: t.measured,
      verdict: t.isMet ? 'PASS' : 'FAIL',
    })),
  };
}
