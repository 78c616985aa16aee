import { createHmac } from 'node:crypto';
import { mailboxKey } from '../subscribers/email-address.js';
import type { RedisClient } from './connection.js';

// One email per window, and no more than `dailyCap` a day, per mailbox; atomic, so concurrent
// requests from several `serve` processes cannot both pass.
const claimScript = `
if not redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return 0 end
local sent = redis.call('INCR', KEYS[2])
if sent == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
if sent > tonumber(ARGV[3]) then return 0 end
return 1`;

/** The script as an ioredis command: sent by its SHA (EVALSHA), the text only when Redis lacks it. */
const commandName = 'paperboyClaimEmailSlot';
type ClaimCommand = (keyWindow: string, keyDay: string, ...args: number[]) => Promise<number>;

/**
 * The guard against mail-bombing a victim, shared by every process through Redis. It counts
 * mailboxes, not spellings (`victim+1@`, `v.ictim@gmail.com`: see `mailboxKey`), and its keys are an
 * HMAC of the mailbox, so Redis never holds an address.
 */
export function createEmailThrottle(
  redis: RedisClient,
  options: { prefix: string; secretKey: string; windowMs?: number; dailyCap?: number },
) {
  const windowMs = options.windowMs ?? 10 * 60 * 1000;
  const dailyCap = options.dailyCap ?? 5;
  redis.defineCommand(commandName, { numberOfKeys: 2, lua: claimScript });
  const claim = (redis as unknown as Record<typeof commandName, ClaimCommand>)[commandName].bind(redis);
  return async function claimEmailSlot(email: string): Promise<boolean> {
    const digest = createHmac('sha256', options.secretKey).update(mailboxKey(email)).digest('base64url');
    const result = await claim(
      `${options.prefix}:throttle:email:${digest}`,
      `${options.prefix}:throttle:email-day:${digest}`,
      windowMs,
      86_400_000,
      dailyCap,
    );
    return result === 1;
  };
}
