import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { Mailer } from './email/mailer.js';
import type { EmailTemplates } from './email/templates.js';
import type { Logger } from './log.js';
import type { Enqueue, EnqueueMany } from './queue/jobs.js';
import type { Tokens } from './subscribers/tokens.js';

/** What every verb may use. Built once by a composition root in `main/`; features never build their own. */
export interface Ctx {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  tokens: Tokens;
  enqueue: Enqueue;
  enqueueMany: EnqueueMany;
  /** True at most once per mailbox per 10 minutes and 5 times a day: the guard against mail-bombing a victim. */
  claimEmailSlot: (email: string) => Promise<boolean>;
}

/** Job handlers that send mail also get the transport and the compiled templates. */
export interface MailCtx extends Ctx {
  mailer: Mailer;
  templates: EmailTemplates;
}
