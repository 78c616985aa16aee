import { readFileSync } from 'node:fs';
import { decodeHTML } from 'entities';
import { expect } from 'vitest';
import type { Db } from '../../src/db/client.js';
import type { Paper, PaperSource } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { handedOverNote } from '../../src/digests/send-digest.js';
import { normalizePaper, type RawPaper } from '../../src/papers/normalize.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { type UpsertResult, upsertPapers } from '../../src/papers/store.js';
import type { TestApp } from './app.js';
import type { ReceivedMail } from './smtp-sink.js';

/**
 * A stored paper as the digest code reads it, built through ingestion's own normalisation, so that
 * whatever a feed could smuggle in (entities, `javascript:` links) is treated as it would be.
 */
export function paperFrom(
  raw: Partial<RawPaper> & { arxivId: string; title: string; abstract: string },
  options: { id: number; source?: PaperSource; now?: Date },
): Paper {
  const now = options.now ?? new Date('2026-03-03T08:00:00Z');
  const record = normalizePaper(
    { authors: ['Ada Lovelace'], publishedAt: now.toISOString(), ...raw },
    new Date(now.getTime() + 86_400_000),
  );
  return {
    ...record,
    id: options.id,
    categories: record.categories ?? [],
    upvotes: record.upvotes ?? 0,
    aiSummary: record.aiSummary ?? null,
    aiKeywords: record.aiKeywords ?? null,
    githubRepo: record.githubRepo ?? null,
    projectPage: record.projectPage ?? null,
    thumbnail: record.thumbnail ?? null,
    source: options.source ?? 'hf-daily',
    firstSeenAt: now,
    updatedAt: now,
  };
}

/** examples/papers.json stored as `paperboy ingest examples/papers.json` would, first seen `now`. */
export async function seedSamplePapers(db: Db, now = new Date()): Promise<UpsertResult> {
  const sample: unknown = JSON.parse(
    readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8'),
  );
  return upsertPapers(db, parsePapersJson(sample, now).records, 'file', now);
}

const htmlEntities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

/** Text as it must appear inside the HTML part: the characters Handlebars escapes, escaped. */
export const escapeHtml = (text: string) => text.replace(/[&<>"'`=]/g, (char) => htmlEntities[char] ?? char);

/** Every `href` in an HTML document, in order. */
export const hrefsOf = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? '');

/** The HTML of each paper card, in order. */
export const cardsOf = (html: string) =>
  html
    .split('class="card"')
    .slice(1)
    .map((card) => card.slice(0, card.indexOf('</table>')));

/** The block of each paper in the text part (from its `N. ` line to the next), in order. */
export const textBlocksOf = (text: string) => text.split(/\n(?=\d+\. )/).slice(1);

/** Every value of a header exactly as it went over the wire, unfolded. */
export function rawHeaders(mail: ReceivedMail, name: string): string[] {
  return mail.parsed.headerLines
    .filter((header) => header.key === name.toLowerCase())
    .map((header) => header.line.replace(/\r?\n(?=[ \t])/g, '').replace(/^[^:]+:\s*/, ''));
}

/** The one value of a header that must appear exactly once. */
export function rawHeader(mail: ReceivedMail, name: string): string {
  const values = rawHeaders(mail, name);
  if (values.length !== 1) throw new Error(`expected one ${name} header, found ${values.length}`);
  return values[0] as string;
}

/**
 * Text with every run of white space made one space: the text part is wrapped at 72 columns, so a
 * phrase may cross a line break; this compares what it says, not where its lines end.
 */
export const flat = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The paper titles of a digest's HTML part, in order, as a reader sees them. */
export const paperTitlesOf = (html: string) =>
  [...html.matchAll(/class="paper-title"[^>]*>([^<]*)<\/a>/g)].map((match) => decodeHTML(match[1] ?? ''));

/**
 * The addresses whose digest a killed worker had recorded as handed over (`data_sent_at`) before the
 * server answered: the one loss window (docs/ARCHITECTURE.md, "Job flow: digests", Exactly once). Each may or may not
 * have its email, never two; every other address must have exactly its own.
 */
export async function handedOverAtCrash(db: Db): Promise<Set<string>> {
  return new Set(
    await db.column<string>(sql`select s.email from digests d join subscribers s on s.id = d.subscriber_id
      where d.error = ${handedOverNote}`),
  );
}

/** Plans today's digest for every active subscriber and waits for the email to `email`. */
export async function sendDigestTo(
  app: TestApp,
  email: string,
): Promise<{ mail: ReceivedMail; digestId: number }> {
  const planned = await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
  expect(planned.digestIds).toHaveLength(1);
  const digestId = planned.digestIds[0] as number;
  const isForReader = (received: ReceivedMail) => received.envelopeTo.includes(email);
  const mail = (await app.smtp.waitFor((received) => received.some(isForReader))).find(isForReader);
  if (!mail) throw new Error('no digest email');
  // The server's acceptance reaches the worker a moment after the sink has the message.
  const status = () => app.runtime.db.value<string>(sql`select status from digests where id = ${digestId}`);
  const deadline = Date.now() + 10_000;
  while ((await status()) !== 'sent') {
    if (Date.now() > deadline) throw new Error(`digest ${digestId} is ${await status()}, not sent`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { mail, digestId };
}
