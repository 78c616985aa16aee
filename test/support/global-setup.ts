import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

async function waitForPong(port: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (ping.stdout?.trim() === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`private redis-server on port ${port} did not answer`);
}

/**
 * SPEC §2: without REDIS_URL the suite starts a private redis-server on a free port (when the binary is
 * on PATH), so tests never touch a developer's data; otherwise it falls back to the default URL.
 */
export default async function setup(project: TestProject) {
  let server: ChildProcess | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    const hasBinary = spawnSync('redis-server', ['--version']).status === 0;
    if (hasBinary) {
      const port = await freePort();
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await waitForPong(port);
      url = `redis://127.0.0.1:${port}`;
    } else {
      url = 'redis://127.0.0.1:6379';
    }
  }
  project.provide('redisUrl', url);
  return () => {
    server?.kill('SIGTERM');
  };
}
