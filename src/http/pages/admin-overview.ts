import { type IngestSourceState, type Overview, overviewDays } from '../../ops/read-overview.js';
import type { IngestRunSummary } from '../../ops/read-stats.js';
import type { QueueCounts } from '../../queue/counts.js';
import { type Html, html } from '../html.js';
import { lineChart, rankedBarChart, type Series, stackedBarChart } from './charts.js';
import { layout } from './layout.js';

/** Where the overview links into bull-board (kept here so the page needs nothing from the routes). */
export interface OverviewLinks {
  queues: string;
  logout: string;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `2026-11-28` → `Nov 28`, for axis ticks. */
const shortDay = (day: string) => `${months[Number(day.slice(5, 7)) - 1] ?? ''} ${Number(day.slice(8, 10))}`;
const number = new Intl.NumberFormat('en');
const fmt = (value: number) => number.format(value);
/** An instant as the page shows it: UTC to the minute, machine-readable in `datetime`. */
const when = (at: Date | null) =>
  at === null
    ? html`<span class="muted">never</span>`
    : html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;

const statusBadge = (status: string) => html`<span class="badge badge-${status}">${status}</span>`;

function subscribersSection(overview: Overview): Html {
  const { subscribers } = overview;
  const statuses = (['active', 'pending', 'unsubscribed', 'bounced', 'complained'] as const).filter(
    // complained is recorded by no event: shown only where it exists.
    (status) => status !== 'complained' || subscribers.current.complained > 0,
  );
  const tone = {
    active: 'green',
    pending: 'amber',
    unsubscribed: 'grey',
    bounced: 'red',
    complained: 'purple',
  } as const;
  const endOfDay: Series[] = statuses.map((status) => ({
    name: status,
    values: subscribers.endOfDay[status],
    tone: tone[status],
  }));
  const changes: Series[] = [
    { name: 'new (pending)', values: subscribers.changes.joined, tone: 'amber' },
    { name: 'confirmed or resubscribed', values: subscribers.changes.activated, tone: 'green' },
    { name: 'unsubscribed', values: subscribers.changes.unsubscribed, tone: 'grey' },
    { name: 'bounced', values: subscribers.changes.bounced, tone: 'red' },
  ];
  return html`<section class="card" aria-labelledby="subscribers">
<h2 id="subscribers">Subscribers</h2>
<dl class="totals">${statuses.map((status) => html`<div><dt>${status}</dt><dd>${fmt(subscribers.current[status])}</dd></div>`)}</dl>
${lineChart({
  title: 'Subscribers by status',
  description:
    'At the end of each UTC day, rebuilt from today’s counts and the status changes recorded since.',
  labels: subscribers.days,
  series: endOfDay,
  tick: shortDay,
})}
${stackedBarChart({
  title: 'Status changes per day',
  description: 'New addresses, confirmations, unsubscribes and bounces, by UTC day.',
  labels: subscribers.days,
  series: changes,
  tick: shortDay,
})}
</section>`;
}

function digestsSection(overview: Overview, links: OverviewLinks): Html {
  const { digests } = overview;
  return html`<section class="card" aria-labelledby="digests">
<h2 id="digests">Digests</h2>
${stackedBarChart({
  title: 'Digests per day',
  description:
    'By the reader’s local date each digest is for; “to feeds” went to feed-only readers’ feeds instead of an email; skipped means no new paper matched.',
  labels: digests.days,
  series: [
    { name: 'sent', values: digests.counts.sent, tone: 'green' },
    { name: 'to feeds', values: digests.counts.published, tone: 'purple' },
    { name: 'skipped', values: digests.counts.skipped, tone: 'grey' },
    { name: 'failed', values: digests.counts.failed, tone: 'red' },
    { name: 'in progress', values: digests.counts.inProgress, tone: 'blue' },
  ],
  tick: shortDay,
})}
<p><a href="${links.queues}/queue/send?status=failed">Failed send jobs</a> · <a href="${links.queues}/queue/send">Send queue</a> · <a href="${links.queues}/queue/digests">Planning ticks</a></p>
</section>`;
}

const runCounts = (run: IngestRunSummary) =>
  html`<td>${fmt(run.inserted)}</td><td>${fmt(run.updated)}</td><td>${fmt(run.rejected)}</td>`;

/**
 * One row per source that ran in the window. Its cells come from `IngestSourceState`, so what a source
 * knows about itself (catch-up state, dates that failed) is one more column here and one more field there.
 */
function sourcesTable(sources: readonly IngestSourceState[]): Html {
  if (sources.length === 0)
    return html`<p class="chart-empty">No ingest run in the last ${overviewDays} days.</p>`;
  return html`<div class="table-scroll"><table class="data">
<caption>Sources that ran in the last ${overviewDays} days</caption>
<thead><tr><th scope="col">Source</th><th scope="col">Last run</th><th scope="col">Status</th><th scope="col">New</th><th scope="col">Updated</th><th scope="col">Rejected</th><th scope="col">Last success</th><th scope="col">Runs (failed)</th><th scope="col">Dates missing</th></tr></thead>
<tbody>${sources.map(
    (source) =>
      html`<tr><th scope="row"><code>${source.source}</code></th><td>${when(source.lastRun.finishedAt)}</td><td>${statusBadge(source.lastRun.status)}</td>${runCounts(source.lastRun)}<td>${when(source.lastSuccessAt)}</td><td>${fmt(source.runs)} (${fmt(source.failedRuns)})</td><td>${source.failedDates.join(', ')}</td></tr>`,
  )}</tbody></table></div>`;
}

function recentRunsTable(runs: readonly IngestRunSummary[]): Html {
  if (runs.length === 0) return html``;
  return html`<details class="numbers"><summary>The last ${runs.length} runs</summary><div class="table-scroll"><table class="data">
<thead><tr><th scope="col">Finished</th><th scope="col">Source</th><th scope="col">Status</th><th scope="col">New</th><th scope="col">Updated</th><th scope="col">Rejected</th><th scope="col">Error</th></tr></thead>
<tbody>${runs.map(
    (run) =>
      html`<tr><td>${when(run.finishedAt)}</td><td><code>${run.source}</code></td><td>${statusBadge(run.status)}</td>${runCounts(run)}<td class="error-text">${run.error ?? ''}</td></tr>`,
  )}</tbody></table></div></details>`;
}

function ingestSection(overview: Overview, links: OverviewLinks): Html {
  const { ingest } = overview;
  return html`<section class="card" aria-labelledby="ingest">
<h2 id="ingest">Ingestion</h2>
${sourcesTable(ingest.sources)}
${stackedBarChart({
  title: 'Ingest runs per day',
  description: 'Runs of every source by UTC day they finished; a failed run wrote nothing.',
  labels: ingest.days,
  series: [
    { name: 'ok', values: ingest.runsPerDay.ok, tone: 'green' },
    { name: 'failed', values: ingest.runsPerDay.failed, tone: 'red' },
  ],
  tick: shortDay,
})}
${stackedBarChart({
  title: 'New papers per day',
  description: 'Papers paperboy stored for the first time, by UTC day.',
  labels: ingest.days,
  series: [{ name: 'new papers', values: ingest.insertedPerDay, tone: 'blue' }],
  tick: shortDay,
})}
${recentRunsTable(ingest.recent)}
<p><a href="${links.queues}/queue/ingest">Ingest queue</a> · <a href="${links.queues}/queue/ingest?status=failed">Failed ingest jobs</a></p>
</section>`;
}

function topicsSection(overview: Overview): Html {
  const { topics } = overview;
  const without = topics.activeWithoutTopics;
  return html`<section class="card" aria-labelledby="topics">
<h2 id="topics">Topics</h2>
${rankedBarChart({
  title: 'Top topics',
  description: 'The most common topics of active subscribers, as written, by how many have each.',
  labelHeading: 'Topic',
  items: topics.top.map((topic) => ({ label: topic.query, value: topic.subscribers })),
})}
<p class="muted">${fmt(without)} active subscriber${without === 1 ? ' has' : 's have'} no topic and get${without === 1 ? 's' : ''} the most upvoted papers.</p>
</section>`;
}

function queuesSection(counts: QueueCounts | null, links: OverviewLinks): Html {
  const body =
    counts === null
      ? html`<p class="error">Queue counts are unavailable: Redis did not answer.</p>`
      : html`<div class="table-scroll"><table class="data">
<thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Active</th><th scope="col">Delayed</th><th scope="col">Failed</th></tr></thead>
<tbody>${Object.entries(counts).map(
          ([name, states]) =>
            html`<tr><th scope="row"><a href="${links.queues}/queue/${name}">${name}</a></th><td>${fmt(states.waiting)}</td><td>${fmt(states.active)}</td><td>${fmt(states.delayed)}</td><td>${states.failed > 0 ? html`<a href="${links.queues}/queue/${name}?status=failed">${fmt(states.failed)}</a>` : '0'}</td></tr>`,
        )}</tbody></table></div>`;
  return html`<section class="card" aria-labelledby="queues">
<h2 id="queues">Queues</h2>
${body}
<p><a class="button" href="${links.queues}">Open the queue dashboard</a></p>
</section>`;
}

/** `GET /admin`: the operator's overview, every number as of `overview.generatedAt`. */
export function adminOverviewPage(overview: Overview, queueCounts: QueueCounts | null, links: OverviewLinks) {
  return layout({
    title: 'Admin overview',
    wide: true,
    body: html`<div class="overview-head">
<div><h1>Admin overview</h1>
<p class="lead">As of ${when(overview.generatedAt)}; charts cover the last ${overviewDays} days.</p></div>
<nav aria-label="Admin"><a href="${links.queues}">Queue dashboard</a> · <a href="${links.logout}">Sign out</a></nav>
</div>
<div class="overview">
${subscribersSection(overview)}
${digestsSection(overview, links)}
${ingestSection(overview, links)}
${topicsSection(overview)}
${queuesSection(queueCounts, links)}
</div>`,
  });
}
