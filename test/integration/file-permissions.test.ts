import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { resolveSecretKey } from '../../src/main/secret.js';
import { api, startTestApp } from '../support/app.js';

/**
 * The outbox holds working confirm and manage links, the database every address and token salt,
 * secret.key the key that signs links: owner only, whatever the umask. (Root reads them anyway,
 * but the modes are what stat reports and what every other user meets.)
 */

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

// The usual umask, under which files are world-readable unless created otherwise.
let umask: number;
beforeAll(() => {
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-modes-'));
  dirs.push(dir);
  return dir;
};

const waitUntil = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('files paperboy writes are owner only', () => {
  it('creates data/ 0700, the database and its -wal and -shm 0600, the outbox 0700 and its messages 0600', async () => {
    const data = join(tempDir(), 'data');
    const database = join(data, 'paperboy.db');
    const outbox = join(data, 'outbox');
    const app = await startTestApp({
      env: { SMTP_URL: '', DATABASE_URL: `file:${database}`, OUTBOX_DIR: outbox },
    });
    try {
      await api(app, '/api/subscriptions', { body: { email: 'modes@example.org' } });
      await waitUntil(() => existsSync(outbox) && readdirSync(outbox).length === 2);
      const messages = readdirSync(outbox).sort();
      expect(messages).toEqual([expect.stringMatching(/\.eml$/), expect.stringMatching(/\.html$/)]);

      expect(modeOf(data)).toBe('700');
      expect(modeOf(database)).toBe('600');
      // SQLite creates these next to the database with its mode.
      expect(modeOf(`${database}-wal`)).toBe('600');
      expect(modeOf(`${database}-shm`)).toBe('600');
      expect(modeOf(outbox)).toBe('700');
      for (const message of messages) expect(modeOf(join(outbox, message))).toBe('600');
    } finally {
      await app.close();
    }
  });

  it('leaves an existing shared directory alone but tightens the database file and left-over -wal/-shm', async () => {
    const shared = join(tempDir(), 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    const database = join(shared, 'paperboy.db');
    // A database an earlier version created world-readable, and the -wal/-shm of a crash.
    new Database(database).close();
    writeFileSync(`${database}-wal`, '');
    writeFileSync(`${database}-shm`, '');
    for (const file of [database, `${database}-wal`, `${database}-shm`]) chmodSync(file, 0o644);

    const db = await openDatabase(loadConfig({ DATABASE_URL: `file:${database}` }).database);
    try {
      await migrateDatabase(db);
      expect(modeOf(shared)).toBe('755');
      expect(modeOf(database)).toBe('600');
      expect(modeOf(`${database}-wal`)).toBe('600');
      expect(modeOf(`${database}-shm`)).toBe('600');
    } finally {
      await db.close();
    }
  });

  it('creates the directory of a generated secret.key 0700, the key 0600', () => {
    const directory = join(tempDir(), 'state');
    const file = join(directory, 'secret.key');
    const config = resolveSecretKey(loadConfig({}), file);
    expect(config.secretKey.length).toBeGreaterThanOrEqual(32);
    expect(modeOf(directory)).toBe('700');
    expect(modeOf(file)).toBe('600');
  });
});
