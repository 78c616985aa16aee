import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One email per address per window, shared by every process through Redis. The key is an HMAC of
 * the address, so Redis never holds the address itself.
 */
export function createEmailThrottle(
  redis: Redis,
  options: { prefix: string; secretKey: string; windowMs?: number },
) {
  const windowMs = options.windowMs ?? 10 * 60 * 1000;
  return async function claimEmailSlot(email: string): Promise<boolean> {
    const digest = createHmac('sha256', options.secretKey).update(email).digest('base64url');
    const result = await redis.set(`${options.prefix}:throttle:email:${digest}`, '1', 'PX', windowMs, 'NX');
    return result === 'OK';
  };
}
