import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { isBuilt } from '../bin/is-built.js';
import { benchmarks } from './benchmarks.js';
import { dropLeftoverDatabases, postgresAdminUrl, type Store, storeNames, withAdmin } from './database.js';
import {
  type Benchmark,
  type BenchOptions,
  type BenchResult,
  format,
  renderTable,
  renderTargets,
  type Table,
} from './harness.js';

const usage = `Usage: npm run bench [-- <name>… [--db sqlite|postgres|both] [--warmup N] [--runs N] [--seed N] [--<size> N]]

Benchmarks (all by default):
${benchmarks
  .map(
    (benchmark) =>
      `  ${benchmark.name.padEnd(10)} ${benchmark.description} [${describeStores(benchmark)}]\n${Object.entries(
        benchmark.sizes,
      )
        .map(([size, spec]) => `      --${size} ${spec.default}  ${spec.description}`)
        .join('\n')}`,
  )
  .join('\n')}

Common options:
  --db STORE   sqlite (default), postgres, or both: each benchmark on SQLite, then on PostgreSQL, then
               their headline figures side by side. PostgreSQL databases are created for the run and
               dropped after it on the server of BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
  --warmup N   runs before the measured ones (default 1); the first run is reported as "cold"
  --runs N     measured runs; tables show their median (default 3)
  --seed N     seed of the generated data (default 42)
Results are printed and written to bench/results/<name>-<timestamp>.json.`;

function describeStores(benchmark: Benchmark): string {
  const stores = benchmark.stores ?? ['sqlite'];
  return stores.length === 0 ? 'no database' : stores.map((store) => storeNames[store]).join(', ');
}

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

function wholeNumber(name: string, value: string | undefined, min: number): number {
  const number = Number(value?.replaceAll('_', ''));
  if (!Number.isSafeInteger(number) || number < min)
    fail(`--${name} takes a whole number ≥ ${min}, got ${value}`);
  return number;
}

/** Where the figures came from: without these, a number in a results file means little. */
function machineFacts() {
  const cpuList = cpus();
  let commit = 'unknown';
  let uncommitted: string[] = [];
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // The engine may be edited while it is measured: name the tracked files that differ from HEAD.
    uncommitted = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));
  } catch {
    // Not a git checkout: the facts go without it.
  }
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
    commit,
    uncommitted,
    date: new Date().toISOString(),
    /** 1, 5 and 15 minute load averages before anything ran: other work on the machine skews timings. */
    loadAverage: loadavg(),
    isGcExposed: typeof globalThis.gc === 'function',
  };
}

const describeUncommitted = (files: readonly string[]) =>
  files.length === 0
    ? ''
    : ` + uncommitted changes to ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}`;

async function main() {
  const sizeNames = new Set(benchmarks.flatMap((benchmark) => Object.keys(benchmark.sizes)));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        db: { type: 'string' },
        ...Object.fromEntries(
          ['warmup', 'runs', 'seed', ...sizeNames].map((name) => [name, { type: 'string' as const }]),
        ),
      },
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return;
  }
  const names = positionals.length > 0 ? positionals : benchmarks.map((benchmark) => benchmark.name);
  const selected = names.map(
    (name) => benchmarks.find((benchmark) => benchmark.name === name) ?? fail(`No benchmark named "${name}"`),
  );
  const common = { warmup: 1, runs: 3, seed: 42 };
  const overrides: Record<string, number> = {};
  let db: Store | 'both' = 'sqlite';
  for (const [name, value] of Object.entries(values)) {
    const text = typeof value === 'string' ? value : undefined;
    if (name === 'db') {
      if (text !== 'sqlite' && text !== 'postgres' && text !== 'both')
        fail(`--db takes sqlite, postgres or both, got ${text}`);
      db = text;
    } else if (name === 'warmup') common.warmup = wholeNumber(name, text, 0);
    else if (name === 'runs') common.runs = wholeNumber(name, text, 1);
    else if (name === 'seed') common.seed = wholeNumber(name, text, 0);
    else if (selected.some((benchmark) => name in benchmark.sizes))
      overrides[name] = wholeNumber(name, text, 1);
    else fail(`Unknown option --${name}`);
  }

  const wanted: Store[] = db === 'both' ? ['sqlite', 'postgres'] : [db];
  if (wanted.includes('postgres')) {
    try {
      await withAdmin((client) => client.query('select 1'));
    } catch (error) {
      fail(
        `--db ${db}: PostgreSQL at ${postgresAdminUrl} does not answer (${error}); set BENCH_POSTGRES_URL`,
      );
    }
  }

  // The processes the benchmarks spawn run dist/ as production does; sources newer than it would
  // run through tsx instead, and measure something production never runs.
  if (!isBuilt()) {
    console.log('building dist/ (npm run build): it is older than src/');
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  }

  const machine = machineFacts();
  console.log(
    [
      `machine  ${machine.cpu} × ${machine.cpuCount}, ${format.mb(machine.memoryBytes)} RAM, ${machine.os}`,
      `node     ${machine.node}${machine.isGcExposed ? '' : ' (without --expose-gc: phases start from an uncollected heap)'}`,
      `commit   ${machine.commit}${describeUncommitted(machine.uncommitted)}`,
      `date     ${machine.date}`,
      `load     ${machine.loadAverage.map((load) => load.toFixed(2)).join(' ')} (1, 5, 15 min)`,
    ].join('\n'),
  );
  if ((machine.loadAverage[0] ?? 0) > machine.cpuCount / 2) {
    console.log(
      'WARNING: the machine is already busy; timings will be inflated. A quiet machine gives figures that compare.',
    );
  }

  let hasFailedTarget = false;
  try {
    for (const benchmark of selected) {
      const sizes = Object.fromEntries(
        Object.entries(benchmark.sizes).map(([name, spec]) => [name, overrides[name] ?? spec.default]),
      );
      const supported = benchmark.stores ?? ['sqlite'];
      // A benchmark without a database runs once whatever --db says.
      const stores: Store[] =
        supported.length === 0 ? ['sqlite'] : wanted.filter((store) => supported.includes(store));
      if (stores.length === 0) {
        console.log(
          `\n== ${benchmark.name}: skipped, it runs on ${describeStores(benchmark)} only (--db ${db})`,
        );
        continue;
      }
      const results: { store: Store; result: BenchResult }[] = [];
      for (const store of stores) {
        const options: BenchOptions = {
          ...common,
          sizes,
          store,
          log: (message) =>
            console.error(`[${benchmark.name}${db === 'sqlite' ? '' : ` ${store}`}] ${message}`),
        };
        const label = supported.length === 0 ? '' : ` [${storeNames[store]}]`;
        console.log(`\n== ${benchmark.name}${label}: ${benchmark.description}`);
        console.log(
          `   ${Object.entries(sizes)
            .map(([name, value]) => `--${name} ${value}`)
            .join(
              ' ',
            )} --warmup ${common.warmup} --runs ${common.runs} --seed ${common.seed}${db === 'sqlite' ? '' : ` --db ${store}`}\n`,
        );
        const started = performance.now();
        const result = await benchmark.run(options);
        const elapsedMs = performance.now() - started;
        const tables =
          result.targets.length > 0 ? [...result.tables, renderTargets(result.targets)] : result.tables;
        console.log(tables.map(renderTable).join('\n\n'));
        for (const note of result.notes) console.log(`• ${note}`);
        if (result.bounds && result.bounds.length > 0 && supported.length > 0) {
          console.log(`What bounds it on ${storeNames[store]}:`);
          for (const line of result.bounds) console.log(`  - ${line}`);
        }
        console.log(`(benchmark took ${format.ms(elapsedMs)})`);
        hasFailedTarget ||= result.targets.some((target) => !target.isMet);
        results.push({ store, result });

        const directory = new URL('./results/', import.meta.url);
        mkdirSync(directory, { recursive: true });
        const storePart = db === 'sqlite' || supported.length === 0 ? '' : `-${store}`;
        const file = new URL(
          `${benchmark.name}${storePart}-${machine.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`,
          directory,
        );
        const record = {
          benchmark: benchmark.name,
          store: supported.length === 0 ? undefined : store,
          machine,
          options: { ...common, sizes },
          elapsedMs,
          targets: result.targets,
          data: result.data,
          tables: result.tables,
          summary: result.summary,
          bounds: result.bounds,
        };
        writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
        console.log(`results  ${file.pathname}`);
      }
      if (results.length > 1) {
        console.log(
          `\n== ${benchmark.name}: ${results.map(({ store }) => storeNames[store]).join(' and ')} side by side`,
        );
        console.log(renderTable(sideBySide(benchmark.name, results)));
        for (const { store, result } of results) {
          if (!result.bounds?.length) continue;
          console.log(`What bounds it on ${storeNames[store]}:`);
          for (const line of result.bounds) console.log(`  - ${line}`);
        }
      }
    }
  } finally {
    if (wanted.includes('postgres')) {
      const left = await dropLeftoverDatabases().catch(() => []);
      if (left.length > 0) console.error(`dropped databases a failed run left: ${left.join(', ')}`);
    }
  }
  // A missed target fails the command, so CI or a script can notice.
  if (hasFailedTarget) process.exitCode = 1;
}

/** The headline figures of each store's run in one table, with the second store's over the first's. */
function sideBySide(name: string, results: readonly { store: Store; result: BenchResult }[]): Table {
  const [first, second] = results as [(typeof results)[0], (typeof results)[0]];
  const rows = (first.result.summary ?? []).map((row) => {
    const other = second.result.summary?.find((candidate) => candidate.what === row.what);
    const ratio = other ? other.value / row.value : Number.NaN;
    return {
      what: row.what,
      first: row.text,
      second: other?.text ?? '–',
      ratio: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '',
    };
  });
  return {
    title: `${name}: headline figures`,
    columns: [
      { key: 'what', header: 'what', align: 'left' },
      { key: 'first', header: storeNames[first.store] },
      { key: 'second', header: storeNames[second.store] },
      { key: 'ratio', header: `${storeNames[second.store]} ÷ ${storeNames[first.store]}` },
    ],
    rows,
  };
}

await main();
