/**
 * SQLite before and after a change, measured alternately on one machine: the same benchmarks at the
 * same sizes in a git worktree of the earlier commit and in this tree, each pair run back to back
 * (the order swapped every round, so a machine getting busier or quieter favours neither side).
 * Prints each figure's runs, medians and the ratio after / before, and writes them to
 * bench/results/before-after-<timestamp>.json.
 *
 *   git worktree add /tmp/wt-before dc10fe3 && ln -s "$PWD/node_modules" /tmp/wt-before/node_modules
 *   node --import tsx scripts/bench-before-after.ts --before /tmp/wt-before --rounds 3
 *   git worktree remove --force /tmp/wt-before
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Data = Record<string, unknown>;
/** A figure read from a results file; `time` figures grow when slower, `rate` figures shrink. */
interface Metric {
  name: string;
  kind: 'time' | 'rate';
  unit: string;
  read: (data: Data) => number;
}

const at = (data: Data, path: string): number => {
  let value: unknown = data;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'number' ? value : Number.NaN;
};

/** The benchmarks compared, the sizes they run at, and the figures read from their results. */
const benches: { name: string; args: string[]; metrics: Metric[] }[] = [
  {
    name: 'matching',
    args: ['--subscribers', '30000'],
    metrics: [
      { name: 'walk subscribers only', kind: 'time', unit: 'ms', read: (d) => at(d, 'walkOnly.medianMs') },
      { name: 'digest pass (median)', kind: 'time', unit: 'ms', read: (d) => at(d, 'pass.medianMs') },
      {
        name: 'picked as send jobs do',
        kind: 'time',
        unit: 'ms',
        read: (d) => at(d, 'sendJobPass.medianMs'),
      },
      {
        name: 'fresh process: load + index + pass',
        kind: 'time',
        unit: 'ms',
        read: (d) => {
          const fresh = (d.scale as { fresh: Record<string, number> }[] | undefined)?.at(-1)?.fresh;
          return fresh ? (fresh.loadMs ?? 0) + (fresh.indexMs ?? 0) + (fresh.passMs ?? 0) : Number.NaN;
        },
      },
    ],
  },
  {
    name: 'delivery',
    args: ['--digests', '5000'],
    metrics: [
      { name: 'paperboy digests/s', kind: 'rate', unit: '/s', read: (d) => at(d, 'paperboy.rate') },
      { name: 'paperboy / ceiling', kind: 'rate', unit: '×', read: (d) => at(d, 'ratio') },
      {
        name: 'worker CPU per digest',
        kind: 'time',
        unit: 'ms',
        read: (d) =>
          ((d.paperboy as { workers: { cpuMs: number }[] } | undefined)?.workers[0]?.cpuMs ?? Number.NaN) /
          at(d, 'digests'),
      },
      { name: 'planDigests', kind: 'time', unit: 'ms', read: (d) => at(d, 'paperboy.planMs') },
    ],
  },
  {
    name: 'http',
    args: [],
    metrics: [
      {
        name: 'POST /api/subscriptions req/s',
        kind: 'rate',
        unit: '/s',
        read: (d) => at(d, 'subscribe.requestsPerSecond'),
      },
      { name: 'POST /api/subscriptions p99', kind: 'time', unit: 'ms', read: (d) => at(d, 'subscribe.p99') },
      {
        name: 'GET /api/topics/preview req/s',
        kind: 'rate',
        unit: '/s',
        read: (d) => at(d, 'preview.requestsPerSecond'),
      },
    ],
  },
  {
    name: 'ingest',
    args: [],
    metrics: [
      { name: 'first ingest', kind: 'time', unit: 'ms', read: (d) => at(d, 'first.medianMs') },
      { name: 'same file again', kind: 'time', unit: 'ms', read: (d) => at(d, 'again.medianMs') },
      { name: 'upvotes changed', kind: 'time', unit: 'ms', read: (d) => at(d, 'changed.medianMs') },
    ],
  },
  {
    name: 'render',
    args: [],
    metrics: [
      {
        name: 'render once, per recipient',
        kind: 'time',
        unit: 'µs',
        read: (d) => at(d, 'renderOnce.perRecipientUs'),
      },
    ],
  },
];

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const { values } = parseArgs({
  options: {
    before: { type: 'string', default: '/tmp/wt-before' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    // The benchmarks' database probes (bench/probe.mjs) are off by default, as the earlier commit
    // has none; with --before pointing at this tree too, these measure what the probes cost.
    'probe-before': { type: 'boolean', default: false },
    'probe-after': { type: 'boolean', default: false },
  },
});
const probe = { before: values['probe-before'] as boolean, after: values['probe-after'] as boolean };
const trees = {
  before: resolve(values.before as string),
  after: fileURLToPath(new URL('..', import.meta.url)),
};
const rounds = Number(values.rounds);
const only = values.only?.split(',');

function runBench(side: 'before' | 'after', bench: (typeof benches)[number]) {
  const tree = trees[side];
  const load = loadavg()[0] ?? Number.NaN;
  const started = Date.now();
  const child = spawnSync('npm', ['run', 'bench', '--', bench.name, ...bench.args], {
    cwd: tree,
    env: { ...process.env, BENCH_PROBE: probe[side] ? 'on' : 'off' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const file = /^results\s+(\S+)$/m.exec(child.stdout ?? '')?.[1];
  if (!file) throw new Error(`${bench.name} in ${tree} wrote no results:\n${child.stderr}\n${child.stdout}`);
  const data = JSON.parse(readFileSync(file, 'utf8')).data as Data;
  return {
    file,
    load,
    seconds: (Date.now() - started) / 1000,
    figures: bench.metrics.map((m) => m.read(data)),
  };
}

const results: Record<
  string,
  { before: ReturnType<typeof runBench>[]; after: ReturnType<typeof runBench>[] }
> = {};
for (const bench of benches.filter((b) => !only || only.includes(b.name))) {
  results[bench.name] = { before: [], after: [] };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? (['before', 'after'] as const) : (['after', 'before'] as const);
    for (const side of order) {
      const run = runBench(side, bench);
      results[bench.name]?.[side].push(run);
      console.error(
        `${bench.name} round ${round} ${side}: load ${run.load.toFixed(2)}, ${run.seconds.toFixed(0)} s, ${run.figures.map((f) => f.toFixed(1)).join(' / ')}`,
      );
    }
  }
}

const lines: string[] = [];
const summary: Record<string, unknown>[] = [];
for (const bench of benches) {
  const result = results[bench.name];
  if (!result) continue;
  bench.metrics.forEach((metric, i) => {
    const before = result.before.map((run) => run.figures[i] as number);
    const after = result.after.map((run) => run.figures[i] as number);
    const ratio = median(after) / median(before);
    const slowdown = metric.kind === 'time' ? ratio : 1 / ratio;
    const row = { bench: bench.name, metric: metric.name, kind: metric.kind, before, after, ratio, slowdown };
    summary.push(row);
    const show = (list: number[]) => list.map((n) => n.toFixed(n < 10 ? 2 : 0)).join(', ');
    lines.push(
      `${bench.name.padEnd(9)} ${metric.name.padEnd(36)} before ${show(before).padEnd(24)} after ${show(after).padEnd(24)} after/before ${ratio.toFixed(3)} (${slowdown > 1 ? `${((slowdown - 1) * 100).toFixed(1)} % slower` : `${((1 - slowdown) * 100).toFixed(1)} % faster`})`,
    );
  });
}
console.log(lines.join('\n'));
const directory = new URL('../bench/results/', import.meta.url);
mkdirSync(directory, { recursive: true });
const file = new URL(
  `before-after-${new Date()
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z')}.json`,
  directory,
);
writeFileSync(
  file,
  `${JSON.stringify({ trees, probe, rounds, benches: benches.map((b) => ({ name: b.name, args: b.args })), summary, runs: results }, null, 2)}\n`,
);
console.log(`results  ${fileURLToPath(file)}`);
