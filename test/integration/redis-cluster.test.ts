import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import type { Runtime } from '../../src/main/runtime.js';
import { checkRedis } from '../../src/queue/connection.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
const adminToken = 'cluster-admin-token-0123456789';

const redisCli = async (port: number, ...args: string[]) =>
  (await run('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })).stdout.trim();

async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Local redis-server processes, killed (and their files removed) by `stop`. */
function redisServers() {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-redis-'));
  const children: ChildProcess[] = [];
  return {
    dir,
    async start(port: number, args: string[]) {
      const child = spawn('redis-server', args, { stdio: 'ignore' });
      children.push(child);
      await waitUntil(`redis-server on ${port}`, async () => (await redisCli(port, 'ping')) === 'PONG');
    },
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three masters, no replicas, every slot assigned: `redis-cli --cluster create` as an operator runs it. */
async function startCluster() {
  const servers = redisServers();
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  await Promise.all(
    ports.map(async (port) => {
      // The cluster bus port is the port + 10000 unless told: above 55535 that does not exist.
      const busPort = await freePort();
      await servers.start(port, [
        ...['--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(busPort)],
        ...['--cluster-config-file', join(servers.dir, `nodes-${port}.conf`), '--dir', servers.dir],
        ...['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--daemonize', 'no'],
      ]);
    }),
  );
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((port) => `127.0.0.1:${port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const port of ports) {
    await waitUntil(`cluster_state:ok on ${port}`, async () =>
      (await redisCli(port, 'cluster', 'info')).includes('cluster_state:ok'),
    );
  }
  return { ports, stop: servers.stop };
}

/** Waits until no digest is queued or sending; returns every digest's status. */
async function settle(runtime: Runtime, timeoutMs = 30_000) {
  const pending = async () =>
    (await runtime.db.value<number>(
      sql`select count(*) from digests where status in ('queued', 'sending')`,
    )) ?? 0;
  await waitUntil('digests settled', async () => Number(await pending()) === 0, timeoutMs);
  return runtime.db.all<{ email: string; status: string }>(
    sql`select s.email, d.status from digests d join subscribers s on s.id = d.subscriber_id order by d.id`,
  );
}

/** Every key on every master, by node: to see where paperboy's keys landed. */
async function keysByNode(cluster: Cluster) {
  return Promise.all(
    cluster.nodes('master').map(async (node: Redis) => ({ node, keys: await node.keys('*') })),
  );
}

describe.skipIf(!hasRedisServer)('a Redis Cluster of three masters', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let app: TestApp;
  let client: Cluster;
  const prefix = `{pbtest-${randomUUID().slice(0, 8)}}`;

  beforeAll(async () => {
    cluster = await startCluster();
    const [p1, p2] = cluster.ports;
    app = await startTestApp({
      env: {
        REDIS_URL: `redis+cluster://127.0.0.1:${p1},127.0.0.1:${p2}`,
        QUEUE_PREFIX: prefix,
        ADMIN_TOKEN: adminToken,
        RATE_LIMIT_PER_MINUTE: '5',
      },
    });
    client = new Cluster([{ host: '127.0.0.1', port: p1 as number }]);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await app?.close();
    await cluster?.stop();
  });

  it('sends a digest batch exactly once: one email per subscriber, every row sent, a second plan sends nothing', async () => {
    const { runtime, smtp } = app;
    expect(app.config.redis).toMatchObject({ mode: 'cluster', prefix });
    await seedSamplePapers(runtime.db);
    const emails = Array.from({ length: 50 }, (_, index) => `reader-${index}@example.org`);
    for (const email of emails) await seedSubscriber(runtime.db, { email, topics: [] });

    const first = await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } });
    expect(first.planned).toBe(50);
    const rows = await settle(runtime);
    expect(rows).toHaveLength(50);
    expect(rows.filter((row) => row.status !== 'sent')).toEqual([]);
    await smtp.waitFor((mail) => mail.length >= 50);
    for (const email of emails) expect(smtp.to(email), email).toHaveLength(1);

    expect((await planDigests({ ctx: runtime.ctx, input: { mode: 'all' } })).planned).toBe(0);
    await sleep(1000);
    expect(smtp.received).toHaveLength(50);
    const counts = await runtime.producer.queues.send.getJobCounts(
      'completed',
      'failed',
      'waiting',
      'active',
    );
    expect(counts).toEqual({ completed: 50, failed: 0, waiting: 0, active: 0 });
  });

  it('keeps every key paperboy and BullMQ write under the prefix, on the one master that owns its hash tag', async () => {
    const byNode = await keysByNode(client);
    const holding = byNode.filter((node) => node.keys.length > 0);
    expect(holding).toHaveLength(1);
    const keys = holding[0]?.keys ?? [];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith(`${prefix}:`))).toEqual([]);
    // All of them in the one slot of the tag, which that master owns. (Counted one by one: BullMQ's
    // workers keep writing keys in the background, so a total taken later may have grown.)
    const slot = await client.cluster('KEYSLOT', prefix);
    const slots = await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key)));
    expect(new Set(slots)).toEqual(new Set([slot]));
  });

  it('takes a subscription (email throttle script, rate limit) and sends one confirmation', async () => {
    const email = 'cluster-subscriber@example.org';
    const body = { email, topics: ['diffusion models'] };
    expect((await api(app, '/api/subscriptions', { body })).status).toBe(202);
    await app.smtp.waitFor(() => app.smtp.to(email).length === 1);
    // The same address again within the throttle window: the same answer, no second email.
    expect((await api(app, '/api/subscriptions', { body })).status).toBe(202);
    await sleep(500);
    expect(app.smtp.to(email)).toHaveLength(1);
    const keys = (await keysByNode(client)).flatMap((node) => node.keys);
    expect(keys.filter((key) => key.startsWith(`${prefix}:throttle:email:`))).toHaveLength(1);
    expect(keys.filter((key) => key.startsWith(`${prefix}:ratelimit:writes:`))).toHaveLength(1);

    // RATE_LIMIT_PER_MINUTE=5: the limit's counter (a script in the cluster) stops the sixth write.
    const statuses = [];
    for (let request = 0; request < 4; request++) {
      statuses.push(
        (await api(app, '/api/subscriptions', { body: { email: `other-${request}@example.org` } })).status,
      );
    }
    expect(statuses.slice(0, 3).every((status) => status !== 429)).toBe(true);
    expect(statuses[3]).toBe(429);
  });

  it('serves the admin dashboard and stats: sessions and queue counts live in the cluster', async () => {
    const login = await fetch(`${app.url}/admin/queues?token=${adminToken}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^paperboy_admin=/);
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/api/redis/stats']) {
      const page = await fetch(`${app.url}${path}`, { headers: { cookie } });
      expect(page.status, path).toBe(200);
    }
    const stats = await api(app, '/api/admin/stats', { token: adminToken });
    expect(stats.status).toBe(200);
    expect(stats.json.queues).toMatchObject({ send: { completed: 50 } });
  });

  it('refuses at start a redis:// URL that names a cluster node, and says where to go', async () => {
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}` });
    await expect(checkRedis(config.redis)).rejects.toThrow(
      /is a Redis Cluster node: set REDIS_URL=redis\+cluster:/,
    );
  });
});

describe('REDIS_URL: failing fast', () => {
  it('refuses a cluster URL without a hash-tagged QUEUE_PREFIX, saying why', () => {
    expect(() =>
      loadConfig({ REDIS_URL: 'redis+cluster://127.0.0.1:7000', QUEUE_PREFIX: 'paperboy' }),
    ).toThrow(/QUEUE_PREFIX: a Redis Cluster needs a \{hash tag\} in it, e\.g\. \{paperboy\}.*one hash slot/);
  });

  it('names an unreachable cluster or Sentinel in one line, password redacted', async () => {
    const port = await freePort();
    const cases = [
      [`redis+cluster://app:s3cret@127.0.0.1:${port}`, 'the Redis Cluster at redis+cluster://app:***@'],
      [`redis+sentinel://:s3cret@127.0.0.1:${port}/main`, 'Redis through Sentinel at redis+sentinel://:***@'],
      [`redis://app:s3cret@127.0.0.1:${port}`, 'Redis at redis://app:***@'],
    ] as const;
    for (const [url, where] of cases) {
      const config = loadConfig({ REDIS_URL: url, QUEUE_PREFIX: '{paperboy}' });
      const error = await checkRedis(config.redis, 500).then(
        () => undefined,
        (failure: Error) => failure,
      );
      expect(error?.message, url).toContain(`Cannot reach ${where}127.0.0.1:${port}`);
      expect(error?.message).not.toContain('s3cret');
      expect(error?.message.split('\n')).toHaveLength(1);
    }
  });
});

describe.skipIf(!hasRedisServer)('Redis through Sentinel', () => {
  let servers: ReturnType<typeof redisServers>;
  let app: TestApp;

  beforeAll(async () => {
    servers = redisServers();
    const [master, sentinel] = [await freePort(), await freePort()];
    await servers.start(master, [
      '--port',
      String(master),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    // Sentinel rewrites its config file, so it must be a file of its own.
    const conf = join(servers.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinel}`,
        'bind 127.0.0.1',
        `dir ${servers.dir}`,
        `sentinel monitor pbmain 127.0.0.1 ${master} 1`,
        '',
      ].join('\n'),
    );
    await servers.start(sentinel, [conf, '--sentinel']);
    await waitUntil('sentinel knows the master', async () =>
      (await redisCli(sentinel, 'sentinel', 'get-master-addr-by-name', 'pbmain')).includes(String(master)),
    );
    app = await startTestApp({ env: { REDIS_URL: `redis+sentinel://127.0.0.1:${sentinel}/pbmain` } });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await servers?.stop();
  });

  it('starts through the sentinel and runs digest jobs on the master it names', async () => {
    expect(app.config.redis).toMatchObject({ mode: 'sentinel', name: 'pbmain' });
    await seedSamplePapers(app.runtime.db);
    for (const index of [1, 2, 3])
      await seedSubscriber(app.runtime.db, { email: `s-${index}@example.org`, topics: [] });
    expect((await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } })).planned).toBe(3);
    const rows = await settle(app.runtime);
    expect(rows.map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
    await app.smtp.waitFor((mail) => mail.length === 3);
  });
});
