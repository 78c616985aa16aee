import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { systemClock } from '../clock.js';
import { ConfigError, type DatabaseConfig, loadConfig } from '../config.js';
import { DatabaseUnavailableError, type Db, inList, openMigratedDatabase } from '../db/client.js';
import { sql } from '../db/sql.js';
import { planDigests } from '../digests/plan-digests.js';
import { previewDigest } from '../digests/view-digest.js';
import { loadEmailTemplates } from '../email/load-templates.js';
import { NotFoundError } from '../errors.js';
import { createLogger } from '../log.js';
import { copyStore, TargetNotEmptyError } from '../ops/copy-store.js';
import { FeedError } from '../papers/fetch-feed.js';
import { type ArxivReport, type DateResult, DatesFailedError, ingestPapers } from '../papers/ingest.js';
import { RedisUnavailableError } from '../queue/connection.js';
import { createTokens } from '../subscribers/tokens.js';
import { limitHeapGrowth } from './heap.js';
import { MetricsPortError, metricsPortFor } from './metrics-server.js';
import { createProgress, type ProgressReporter } from './progress.js';
import { startRuntime } from './runtime.js';
import { resolveSecretKey } from './secret.js';

const usage = `Usage: paperboy <command>

Commands:
  start     HTTP server, workers and schedulers in one process (default)
  serve     HTTP server only
  worker    workers and schedulers only
  migrate   apply database migrations and exit
  ingest <hf-daily|arxiv:CATS|FILE> [--date YYYY-MM-DD]
            fetch papers from a source (or read a JSON/Atom file) and store them
  digest [--due | --all] [--at ISO-TIME] [--wait]
            plan the digests due now (or today's for every active subscriber); --wait also
            sends them in this process and prints the counts
  preview <email> [--out FILE]
            render the digest that address would get now; sends nothing
  copy --to DATABASE_URL [--replace]
            copy this install (DATABASE_URL) into another database, e.g. SQLite to
            PostgreSQL; refuses a target that holds rows unless --replace. Stop paperboy
            first; keep SECRET_KEY, so links in emails already sent keep working`;

const roles = {
  start: { http: true, workers: true },
  serve: { http: true, workers: false },
  worker: { http: false, workers: true },
} as const;

/** Polls the planned digests until none is queued or sending; returns how they ended. */
async function waitForDigests(db: Db, ids: number[], progress: ProgressReporter) {
  const counts = { sent: 0, published: 0, skipped: 0, failed: 0 };
  if (ids.length === 0) return counts;
  for (;;) {
    const rows = await db.all<{ status: string; n: number }>(
      sql`select status, count(*) as n from digests where id ${inList(db, ids)} group by status`,
    );
    const by = Object.fromEntries(rows.map((row) => [row.status, row.n])) as Record<string, number>;
    for (const status of Object.keys(counts) as (keyof typeof counts)[]) counts[status] = by[status] ?? 0;
    const done = counts.sent + counts.published + counts.skipped + counts.failed;
    progress.update(done, ids.length);
    if (done === ids.length) {
      progress.stop();
      return counts;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One line per date a catch-up fetched: `hf-daily 2026-11-26: inserted 3, updated 1, rejected 0`. */
function printDates(source: string, dates: readonly DateResult[]) {
  for (const run of dates) {
    console.log(
      run.error === undefined
        ? `${source} ${run.date}: inserted ${run.inserted}, updated ${run.updated}, rejected ${run.rejected}`
        : `${source} ${run.date} failed: ${run.error}`,
    );
  }
}

const minute = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** How far an arXiv run read back and why it stopped: `read 1 page, back to … stored before`. */
function describeArxivReach(report: ArxivReport): string {
  const read = `read ${count(report.pages, 'page', 'pages')} (${count(report.entries, 'entry', 'entries')})`;
  const back = report.oldest ? `, back to ${minute(report.oldest)}` : '';
  if (report.newestStored === null) return `${read}: the newest, as this source was never read before`;
  if (report.skippedAfter)
    return `${read}${back}, as far as INGEST_CATCH_UP_DAYS allows; submissions between ${minute(report.skippedAfter)} and then were not read`;
  if (report.end === 'stopAt')
    return `${read}${back}, past the newest submission stored before (${minute(report.newestStored)})`;
  if (report.end === 'end') return `${read}: all arXiv lists`;
  return `${read}${back}: arXiv pages no further`;
}

/** A failure the user can act on: one line, no stack. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      date: { type: 'string' },
      due: { type: 'boolean' },
      all: { type: 'boolean' },
      at: { type: 'string' },
      wait: { type: 'boolean' },
      out: { type: 'string' },
      to: { type: 'string' },
      replace: { type: 'boolean' },
    },
  });
  const command = positionals[0] ?? 'start';
  if (values.help || command === 'help') {
    console.log(usage);
    return 0;
  }
  const config = resolveSecretKey(loadConfig(process.env));
  const log = createLogger(config.logLevel);

  if (command === 'migrate') {
    const db = await openMigratedDatabase(config.database);
    await db.close();
    log.info({ database: config.database.dialect }, 'migrations applied');
    return 0;
  }
  if (command === 'ingest') {
    const source = positionals[1];
    if (!source) throw new UsageError('ingest needs a source: hf-daily, arxiv:<cats> or a file');
    const db = await openMigratedDatabase(config.database);
    const progress = createProgress(`ingest ${source}`, log);
    try {
      const result = await ingestPapers({
        ctx: { config, db, clock: systemClock, log },
        input: { source, date: values.date, onProgress: progress.update },
      });
      progress.stop();
      const counts = `inserted ${result.inserted}, updated ${result.updated}, rejected ${result.rejected.length}`;
      if (result.dates) printDates(source, result.dates);
      else if (result.arxiv) console.log(`${source}: ${counts}; ${describeArxivReach(result.arxiv)}`);
      else console.log(counts);
      for (const rejected of result.rejected.slice(0, 10))
        console.log(`  rejected #${rejected.index}: ${rejected.reason}`);
      return 0;
    } catch (error) {
      progress.stop();
      if (error instanceof DatesFailedError) {
        printDates(source, error.result.dates);
        const failed = error.result.dates.filter((run) => run.error !== undefined).length;
        throw new UsageError(`ingest ${source}: ${failed} of ${error.result.dates.length} dates failed`, 1);
      }
      if (error instanceof FeedError) throw new UsageError(`ingest ${source} failed: ${error.message}`, 1);
      throw error;
    } finally {
      await db.close();
    }
  }
  if (command === 'preview') {
    const email = positionals[1];
    if (!email) throw new UsageError('preview needs an email address');
    const db = await openMigratedDatabase(config.database);
    try {
      const ctx = {
        config,
        db,
        clock: systemClock,
        tokens: createTokens(config.secretKey),
        templates: await loadEmailTemplates(),
      };
      const preview = await previewDigest({ ctx, input: { email } });
      if (values.out) {
        writeFileSync(values.out, preview.html);
        console.error(
          `${preview.picks} papers for ${email} (${preview.status}); wrote ${values.out}: "${preview.subject}"`,
        );
      } else {
        process.stdout.write(preview.html);
      }
      return 0;
    } catch (error) {
      if (error instanceof NotFoundError) throw new UsageError(error.message, 1);
      throw error;
    } finally {
      await db.close();
    }
  }
  if (command === 'copy') {
    if (!values.to) throw new UsageError('copy needs --to DATABASE_URL (postgres://… or file:PATH)');
    let targetConfig: DatabaseConfig;
    try {
      targetConfig = loadConfig({ ...process.env, DATABASE_URL: values.to }).database;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`--to: ${error.problems.join('; ')}`);
      throw error;
    }
    if (targetConfig.url === config.database.url)
      throw new UsageError('--to names the database being copied');
    const source = await openMigratedDatabase(config.database);
    try {
      const target = await openMigratedDatabase(targetConfig);
      const progress = createProgress('copy', log);
      try {
        const result = await copyStore({
          source,
          target,
          replace: values.replace,
          onProgress: progress.update,
        });
        progress.stop();
        const width = Math.max(...result.tables.map((table) => table.name.length));
        for (const table of result.tables) {
          console.log(`${table.name.padEnd(width)}  ${table.source} → ${table.target}`);
        }
        if (result.tables.some((table) => table.source !== table.target)) {
          throw new UsageError(
            'counts differ: the source changed during the copy? Stop paperboy and copy again with --replace',
            1,
          );
        }
        console.log(`copied ${result.tables.reduce((sum, table) => sum + table.target, 0)} rows`);
        return 0;
      } catch (error) {
        progress.stop();
        if (error instanceof TargetNotEmptyError) throw new UsageError(error.message, 1);
        throw error;
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  }
  if (command === 'digest') {
    if (values.due && values.all) throw new UsageError('digest takes --due or --all, not both');
    const at = values.at === undefined ? undefined : new Date(values.at);
    if (at && Number.isNaN(at.getTime()))
      throw new UsageError(`--at must be an ISO time, not "${values.at}"`);
    const runtime = await startRuntime(config, {
      http: false,
      workers: values.wait === true,
      queues: ['send'],
      schedules: false,
      log,
    });
    try {
      const planned = await planDigests({
        ctx: runtime.ctx,
        input: { mode: values.all ? 'all' : 'due', at },
      });
      console.log(`planned ${planned.planned} digests`);
      if (values.wait) {
        const counts = await waitForDigests(runtime.db, planned.digestIds, createProgress('digest', log));
        const toFeeds = counts.published > 0 ? `, published ${counts.published} to feeds (feed only)` : '';
        console.log(`sent ${counts.sent}, skipped ${counts.skipped}, failed ${counts.failed}${toFeeds}`);
      }
      return 0;
    } finally {
      await runtime.close();
    }
  }
  if (!(command in roles)) {
    console.error(`paperboy: unknown command "${command}"\n\n${usage}`);
    return 2;
  }
  const role = roles[command as keyof typeof roles];
  limitHeapGrowth();
  const runtime = await startRuntime(config, {
    ...role,
    metricsPort: metricsPortFor(config, command as keyof typeof roles),
    log,
  });
  log.info(
    {
      url: runtime.url,
      metricsUrl: runtime.metricsUrl,
      publicUrl: config.http.publicUrl,
      workers: role.workers,
      mail: config.mail.smtpUrl ? 'smtp' : `outbox (${config.mail.outboxDir})`,
    },
    `paperboy ${command} is running${runtime.url ? ` at ${runtime.url}` : ''}${
      runtime.metricsUrl ? ` (metrics at ${runtime.metricsUrl}/metrics)` : ''
    }`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down: finishing jobs in hand');
      runtime.close().then(resolve, (error) => {
        log.error({ err: error }, 'error while shutting down');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Known start-up failures get one clear line; anything else keeps its stack for the bug report.
  if (
    error instanceof ConfigError ||
    error instanceof RedisUnavailableError ||
    error instanceof DatabaseUnavailableError ||
    error instanceof MetricsPortError
  ) {
    console.error(`paperboy: ${error.message}`);
  } else if (error instanceof UsageError) {
    console.error(`paperboy: ${error.message}`);
    process.exit(error.exitCode);
  } else if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`paperboy: ${error.message}\n\n${usage}`);
  } else {
    console.error('paperboy: failed:', error);
  }
  // Exit now: a half-open client's timers must not keep a failed start alive.
  process.exit(1);
}
