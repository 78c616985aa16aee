import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (`node --cpu-prof`) this file reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The phases of sending a digest, each named by the code it runs. A sample belongs to the phase of the
 * innermost frame on its stack that a rule names: a Buffer copy called from mime.ts is composing, a
 * socket read whose handler is ioredis's is the queue. Node's own stream and socket modules count only
 * when nothing else on the stack is named. Stacks no rule names (timers, promise jobs, send-digest.ts's
 * own steps) are "other".
 */
export const phases = [
  { name: 'pick (match, rank, exclusions)', code: ['topics/', 'digests/select.'] },
  {
    name: 'store (SQL, statuses, picks)',
    // The benchmark's probe wraps better-sqlite3's calls: their native time shows in its frames.
    code: ['db/', 'digests/paper-rows.', 'subscribers/store.', 'probe.'],
    packages: ['better-sqlite3', 'pg', 'pg-protocol', 'pg-pool'],
  },
  {
    name: 'render (view values, templates)',
    code: ['email/render.', 'email/digest-view.'],
    packages: ['handlebars'],
  },
  {
    name: 'compose and encode the MIME message',
    code: ['email/mime.', 'email/mailer.'],
    packages: [
      'libmime',
      'libqp',
      ...['mime-node', 'mime-funcs', 'qp', 'base64', 'addressparser'].map((lib) => `nodemailer/.*/${lib}`),
    ],
  },
  {
    name: 'SMTP (connection pool, protocol, socket)',
    code: ['email/smtp-pool.'],
    packages: ['nodemailer/lib/smtp-connection', 'nodemailer/lib/shared'],
  },
  { name: 'links (tokens signed and sealed)', code: ['subscribers/tokens.'] },
  {
    name: 'queue (BullMQ, Redis client)',
    code: ['queue/'],
    packages: ['bullmq', 'ioredis', 'msgpackr', 'cluster-key-slot'],
  },
  {
    // Node's own stream and socket code, reached without a library frame on the stack: mostly the
    // SMTP connection's message piped to its socket (a Redis client's writes have its frames above).
    name: 'socket writes and reads (Node streams)',
    node: ['net', 'internal/streams/', 'internal/stream_base_commons'],
  },
  {
    name: 'logging and metrics',
    code: ['log.', 'metrics.'],
    packages: ['pino', 'prom-client', 'sonic-boom'],
  },
].map((phase) => ({
  name: phase.name,
  isNode: phase.node !== undefined,
  // paperboy's own files, as sources (tsx) or built (dist/), and the packages' files.
  pattern: new RegExp(
    [
      ...(phase.code ?? []).map((path) => `/(src|dist|bench)/${path.replaceAll('.', '\\.')}`),
      ...(phase.packages ?? []).map((name) => `/node_modules/${name}/`),
      ...(phase.node ?? []).map((module) => `^node:${module}`),
    ].join('|'),
  ),
}));

const garbageCollector = 'garbage collection';
const other = 'other (runtime, timers, promise jobs, job steps)';
export const phaseNames = [...phases.map((phase) => phase.name), garbageCollector, other];

export interface PhaseSplit {
  /** Each phase's share of the busy samples (idle excluded); the shares add up to 1. */
  shares: Record<string, number>;
  samples: number;
  /** Whether the window matched the profile's clock: if not, the whole profile was counted. */
  isWindowed: boolean;
}

/**
 * Splits a profile's busy samples by phase, counting only those taken between `from` and `to`
 * (microseconds of the monotonic clock, `process.hrtime`, which V8's profile timestamps also use).
 * Samples are counted, not their time deltas: a delta also holds the time the thread waited for a
 * core, which on a busy machine would lengthen whatever was running when it was descheduled.
 */
export function splitByPhase(profile: CpuProfile, window?: { from: number; to: number }): PhaseSplit {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  /** The innermost frame of a node's stack a rule names, among library and paperboy rules, and among
   * Node's own (used only when no other rule names a frame: a Redis client's write is the queue's). */
  const namedOfNode = new Map<number, { named?: string; node?: string }>();
  const namedOf = (id: number): { named?: string; node?: string } => {
    const known = namedOfNode.get(id);
    if (known) return known;
    const up = parent.get(id);
    const outer = up === undefined ? {} : namedOf(up);
    const url = byId.get(id)?.callFrame.url ?? '';
    const rule = url ? phases.find((phase) => phase.pattern.test(url)) : undefined;
    const named =
      rule && !rule.isNode ? { ...outer, named: rule.name } : rule ? { ...outer, node: rule.name } : outer;
    namedOfNode.set(id, named);
    return named;
  };
  const phaseOf = (id: number): string | null => {
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)') return null;
    if (name === '(garbage collector)') return garbageCollector;
    const { named, node } = namedOf(id);
    return named ?? node ?? other;
  };
  const count = (isInWindow: (time: number) => boolean) => {
    const counts: Record<string, number> = Object.fromEntries(phaseNames.map((name) => [name, 0]));
    let time = profile.startTime;
    let samples = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      time += profile.timeDeltas[i] ?? 0;
      if (!isInWindow(time)) continue;
      const phase = phaseOf(profile.samples[i] as number);
      if (phase === null) continue;
      counts[phase] = (counts[phase] ?? 0) + 1;
      samples++;
    }
    return { counts, samples };
  };
  let isWindowed = window !== undefined;
  let counted = window ? count((time) => time >= window.from && time <= window.to) : count(() => true);
  if (counted.samples === 0) {
    isWindowed = false;
    counted = count(() => true);
  }
  const { counts, samples } = counted;
  const shares = Object.fromEntries(
    Object.entries(counts).map(([name, n]) => [name, n / Math.max(1, samples)]),
  );
  return { shares, samples, isWindowed };
}

/** The newest `.cpuprofile` in a directory, read. */
export function readNewestProfile(directory: string): CpuProfile {
  const files = readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(directory, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${directory}`);
  return JSON.parse(readFileSync(files[0], 'utf8')) as CpuProfile;
}

/** Now on the clock the profiles use, in microseconds. */
export const profileClock = () => Number(process.hrtime.bigint() / 1000n);
