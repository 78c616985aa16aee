import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept, in percent. V8 chooses up to
 * 300 % by itself, and most after start-up, when it judges the process idle: a worker sending digests
 * then grew from ~40 MB of live objects to a 140 MB heap before its first full collection in the run,
 * and peaked at 270 MB of RSS, where 50 % keeps it flat at ~210 MB for the same CPU per digest
 * (docs/BENCHMARKS.md, issue 13). For the processes that run for days (`start`, `serve`, `worker`)
 * only: full collections come more often, which cost a one-off pass that allocates a lot over a large
 * live heap 10–25 % (a million subscribers matched in one process). Node accepts this V8 flag on the
 * command line but not in NODE_OPTIONS, so it is set here; a value given on the command line is left
 * alone.
 */
const heapGrowingPercent = 50;

export function limitHeapGrowth(): void {
  if (process.execArgv.some((arg) => arg.replaceAll('_', '-').startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
}
