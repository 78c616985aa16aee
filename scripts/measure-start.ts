/**
 * Start-up time and idle memory of one paperboy process, as an operator starts it:
 *
 *   npx tsx scripts/measure-start.ts [--root DIR] [--command worker] [--runs 5]
 *
 * Each run spawns `node DIR/bin/paperboy.js <command>` (NODE_ENV=production, a fresh SQLite file, its
 * own queue prefix on REDIS_URL or 127.0.0.1:6379), times spawn → the "is running" log line, waits two
 * seconds for it to settle, reads VmRSS from /proc/<pid>/status, then stops it with SIGTERM. A first,
 * unreported run warms the file cache. `--root` measures another checkout (e.g. a clone of an older
 * commit) with the same method.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: join(import.meta.dirname, '..') },
    command: { type: 'string', default: 'worker' },
    runs: { type: 'string', default: '5' },
  },
});
const root = resolve(values.root);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const readRssMb = (pid: number) => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
};

async function measureOnce(): Promise<{ startMs: number; rssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-measure-'));
  const prefix = `measure-${randomBytes(4).toString('hex')}`;
  const began = performance.now();
  const child = spawn(process.execPath, [join(root, 'bin/paperboy.js'), values.command], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      DATABASE_URL: `file:${join(dir, 'paperboy.db')}`,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('hex'),
      SMTP_URL: 'smtp://127.0.0.1:2525',
      PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    },
  });
  try {
    const startMs = await new Promise<number>((resolveStart, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('is running')) resolveStart(performance.now() - began);
      });
      child.once('exit', (code) => reject(new Error(`paperboy exited ${code} before it was ready`)));
    });
    await new Promise((done) => setTimeout(done, 2000));
    return { startMs, rssMb: readRssMb(child.pid as number) };
  } finally {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? 0;

await measureOnce();
const runs = [];
for (let i = 0; i < Number(values.runs); i++) runs.push(await measureOnce());
const starts = runs.map((run) => run.startMs);
const rss = runs.map((run) => run.rssMb);
console.log(`${root}: paperboy ${values.command}, ${runs.length} runs`);
console.log(
  `  start-up (spawn → ready): median ${median(starts).toFixed(0)} ms  [${starts.map((ms) => ms.toFixed(0)).join(', ')}]`,
);
console.log(
  `  idle RSS (2 s after ready): median ${median(rss).toFixed(1)} MB  [${rss.map((mb) => mb.toFixed(1)).join(', ')}]`,
);
