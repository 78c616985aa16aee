import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { benchmarks } from './benchmarks.js';
import { type BenchOptions, format, renderTable, renderTargets } from './harness.js';

const usage = `Usage: npm run bench [-- <name>… [--warmup N] [--runs N] [--seed N] [--<size> N]]

Benchmarks (all by default):
${benchmarks
  .map(
    (benchmark) =>
      `  ${benchmark.name.padEnd(10)} ${benchmark.description}\n${Object.entries(benchmark.sizes)
        .map(([size, spec]) => `      --${size} ${spec.default}  ${spec.description}`)
        .join('\n')}`,
  )
  .join('\n')}

Common options:
  --warmup N   runs before the measured ones (default 1); the first run is reported as "cold"
  --runs N     measured runs; tables show their median (default 3)
  --seed N     seed of the generated data (default 42)
Results are printed and written to bench/results/<name>-<timestamp>.json.`;

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
  for (const [name, value] of Object.entries(values)) {
    const text = typeof value === 'string' ? value : undefined;
    if (name === 'warmup') common.warmup = wholeNumber(name, text, 0);
    else if (name === 'runs') common.runs = wholeNumber(name, text, 1);
    else if (name === 'seed') common.seed = wholeNumber(name, text, 0);
    else if (selected.some((benchmark) => name in benchmark.sizes))
      overrides[name] = wholeNumber(name, text, 1);
    else fail(`Unknown option --${name}`);
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
  for (const benchmark of selected) {
    const sizes = Object.fromEntries(
      Object.entries(benchmark.sizes).map(([name, spec]) => [name, overrides[name] ?? spec.default]),
    );
    const options: BenchOptions = {
      ...common,
      sizes,
      log: (message) => console.error(`[${benchmark.name}] ${message}`),
    };
    console.log(`\n== ${benchmark.name}: ${benchmark.description}`);
    console.log(
      `   ${Object.entries(sizes)
        .map(([name, value]) => `--${name} ${value}`)
        .join(' ')} --warmup ${common.warmup} --runs ${common.runs} --seed ${common.seed}\n`,
    );
    const started = performance.now();
    const result = await benchmark.run(options);
    const elapsedMs = performance.now() - started;
    const tables =
      result.targets.length > 0 ? [...result.tables, renderTargets(result.targets)] : result.tables;
    console.log(tables.map(renderTable).join('\n\n'));
    for (const note of result.notes) console.log(`• ${note}`);
    console.log(`(benchmark took ${format.ms(elapsedMs)})`);
    hasFailedTarget ||= result.targets.some((target) => !target.isMet);

    const directory = new URL('./results/', import.meta.url);
    mkdirSync(directory, { recursive: true });
    const file = new URL(
      `${benchmark.name}-${machine.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`,
      directory,
    );
    const record = {
      benchmark: benchmark.name,
      machine,
      options: { ...common, sizes },
      elapsedMs,
      targets: result.targets,
      data: result.data,
      tables: result.tables,
    };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`results  ${file.pathname}`);
  }
  // A missed target fails the command, so CI or a script can notice.
  if (hasFailedTarget) process.exitCode = 1;
}

await main();
