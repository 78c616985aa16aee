import type { Ctx } from '../context.js';
import { sql } from '../db/sql.js';

/** Erases the subscriber with their topics and events (foreign keys cascade); every link of theirs dies. */
export async function deleteSubscriber({ ctx, input }: { ctx: Ctx; input: { subscriberId: number } }) {
  await ctx.db.run(sql`delete from subscribers where id = ${input.subscriberId}`);
  ctx.log.info({ subscriberId: input.subscriberId }, 'subscriber deleted on request');
}
