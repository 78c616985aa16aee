import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { subscribers } from '../db/schema.js';

/** Erases the subscriber with their topics and events (foreign keys cascade); every link of theirs dies. */
export function deleteSubscriber({ ctx, input }: { ctx: Ctx; input: { subscriberId: number } }) {
  ctx.db.delete(subscribers).where(eq(subscribers.id, input.subscriberId)).run();
  ctx.log.info({ subscriberId: input.subscriberId }, 'subscriber deleted on request');
}
