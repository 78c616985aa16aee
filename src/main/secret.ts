import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config, UnresolvedConfig } from '../config.js';

export const devSecretFile = 'data/secret.key';

/**
 * In development a missing SECRET_KEY is generated once into data/secret.key, so links keep working
 * across restarts. (Production refuses to start without one: config.ts checks that.)
 */
export function resolveSecretKey(config: UnresolvedConfig, file = devSecretFile): Config {
  if (config.secretKey) return config as Config;
  let secretKey: string;
  try {
    secretKey = readFileSync(file, 'utf8').trim();
  } catch {
    secretKey = randomBytes(32).toString('base64url');
    // A directory paperboy creates (data/ by default) is owner only; an existing one keeps its mode.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${secretKey}\n`, { mode: 0o600, flag: 'wx' });
  }
  if (secretKey.length < 32)
    throw new Error(`${file} holds a key shorter than 32 characters; delete it to regenerate`);
  return Object.freeze({ ...config, secretKey });
}
