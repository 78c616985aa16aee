import type { LikedResult } from '../../feedback/add-liked-papers.js';
import type { SubscriberView } from '../../subscribers/store.js';
import { html } from '../html.js';
import { errorBox, frequencyField, topicsField, weekdays } from './fields.js';
import { layout } from './layout.js';

const timezones = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];
const hours = Array.from({ length: 24 }, (_, hour) => hour);

const statusLines: Record<SubscriberView['status'], string> = {
  active: 'Active: digests are being sent.',
  pending: 'Waiting for confirmation: check your inbox for the confirmation email.',
  unsubscribed: 'Unsubscribed: nothing is being sent.',
  bounced: 'Paused: emails to this address bounced.',
  complained: 'Paused: a digest was marked as spam.',
};

const kindLabels = { more: 'More like this', less: 'Less like this' } as const;

const likedStatusLabels = {
  found: '',
  pending: 'asking arXiv for it',
  missing: 'arXiv does not know this id',
} as const;
const likedResultLabels = {
  added: 'added',
  already: 'already in your list',
  fetching: 'added; asking arXiv for it',
  'not-found': 'not found',
  'not-arxiv': 'not an arXiv paper',
} as const;

/**
 * "Papers I like": the list with a remove button each, and a box for arXiv ids, links or a BibTeX
 * file (the page's script reads a chosen file into the box; without it, paste the file).
 */
function likedSection(
  token: string,
  liked: SubscriberView['likedPapers'],
  results: LikedResult[] | undefined,
) {
  const resultList =
    results && results.length > 0
      ? html`<ul class="liked-results" role="status">${results.map(
          (item) =>
            html`<li><code>${item.input}</code>: ${likedResultLabels[item.result]}${'reason' in item ? html` (${item.reason})` : ''}</li>`,
        )}</ul>`
      : '';
  const list =
    liked.length === 0
      ? html`<p class="muted">None yet.</p>`
      : html`<ul class="feedback-list">${liked.map(
          (
            entry,
          ) => html`<li><a href="https://arxiv.org/abs/${entry.arxivId}">${entry.title ?? entry.arxivId}</a>${likedStatusLabels[entry.status] ? html` <span class="feedback-kind">${likedStatusLabels[entry.status]}</span>` : ''}
<form method="post" action="/manage/${token}/liked-papers" class="inline"><input type="hidden" name="action" value="remove"><input type="hidden" name="arxivId" value="${entry.arxivId}"><button type="submit" aria-label="Remove: ${entry.title ?? entry.arxivId}">Remove</button></form></li>`,
        )}</ul>
<form method="post" action="/manage/${token}/liked-papers"><input type="hidden" name="action" value="clear"><button type="submit" class="danger">Remove all</button></form>`;
  return html`<section class="card" id="liked-papers">
<h2>Papers I like</h2>
<p>Papers like these rank higher among the papers your topics match, as "More like this" does.</p>
${resultList}
${list}
<form method="post" action="/manage/${token}/liked-papers" class="stack">
<input type="hidden" name="action" value="add">
<div class="field"><label for="likedPapers">Add papers <span class="hint">arXiv ids or links, one per line, or a BibTeX file (up to 5,000 papers, 2 MB)</span></label>
<textarea id="likedPapers" name="papers" rows="5" placeholder="2511.12345&#10;https://arxiv.org/abs/2310.06825"></textarea></div>
<div class="field"><label for="bibtexFile">Or choose a BibTeX file</label>
<input id="bibtexFile" type="file" accept=".bib,.bibtex,.txt,text/plain" data-fills="likedPapers"></div>
<button type="submit">Add papers</button>
</form>
</section>`;
}

/** The reader's "more / less like this", each with its undo, and one button to clear them all. */
function feedbackSection(token: string, feedback: SubscriberView['feedback']) {
  if (feedback.length === 0) {
    return html`<section class="card">
<h2>Your feedback</h2>
<p class="muted">None yet. Every paper in your digest has "More like this" and "Less like this" links: similar papers then rank higher or lower among the papers your topics match.</p>
</section>`;
  }
  return html`<section class="card">
<h2>Your feedback</h2>
<p>Papers similar to these rank higher (more like this) or lower (less like this) among the papers your topics match.</p>
<ul class="feedback-list">${feedback.map(
    (
      entry,
    ) => html`<li><span class="feedback-kind">${kindLabels[entry.kind]}</span> <a href="https://arxiv.org/abs/${entry.arxivId}">${entry.title}</a>
<form method="post" action="/manage/${token}" class="inline"><input type="hidden" name="action" value="undo-feedback"><input type="hidden" name="arxivId" value="${entry.arxivId}"><button type="submit" aria-label="Undo: ${entry.title}">Undo</button></form></li>`,
  )}</ul>
<form method="post" action="/manage/${token}"><input type="hidden" name="action" value="clear-feedback"><button type="submit" class="danger">Clear all feedback</button></form>
</section>`;
}

/** Where digests go, and the reader's own feed address with a copy button (the script wires it). */
function deliveryFields(view: SubscriberView, feedUrl: string) {
  return html`<fieldset class="plain"><legend>Where your digest goes</legend>
<label class="check"><input type="radio" name="delivery" value="email" ${view.delivery === 'email' ? 'checked' : ''}> By email</label>
<label class="check"><input type="radio" name="delivery" value="feed" ${view.delivery === 'feed' ? 'checked' : ''}> To my feed only (no digest emails)</label>
<div class="field"><label for="feedUrl">Your feed <span class="hint">add it to a feed reader; it has the papers of your digests, whichever way they go</span></label>
<div class="copy-row"><input id="feedUrl" type="url" readonly value="${feedUrl}" spellcheck="false"><button type="button" data-copy="feedUrl" hidden>Copy</button></div>
<p class="hint">Anyone with this address can read your feed; it shows papers, never your address.</p></div>
</fieldset>`;
}

export function managePage({
  token,
  view,
  feedUrl,
  notice,
  error,
  likedResults,
}: {
  token: string;
  view: SubscriberView;
  /** The reader's own feed (`/feeds/<feed token>.atom`). */
  feedUrl: string;
  notice?: string;
  error?: string;
  /** What became of each item just added to "Papers I like". */
  likedResults?: LikedResult[];
}) {
  const isActive = view.status === 'active' || view.status === 'pending';
  return layout({
    title: 'Your subscription',
    body: html`
<section class="card">
<h1>Your subscription</h1>
<p><strong>${view.email}</strong><br><span class="status status-${view.status}">${statusLines[view.status]}</span></p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${errorBox(error)}
<form method="post" action="/manage/${token}" class="stack">
<input type="hidden" name="action" value="save">
${topicsField(view.topics)}
${frequencyField(view.frequency)}
<div class="row">
<div class="field" data-weekly-only><label for="weeklyDay">Weekly digest day</label>
<select id="weeklyDay" name="weeklyDay">${weekdays.map(
      (day, index) =>
        html`<option value="${index}" ${index === view.weeklyDay ? 'selected' : ''}>${day}</option>`,
    )}</select></div>
<div class="field"><label for="sendHour">Send at</label>
<select id="sendHour" name="sendHour">${hours.map(
      (hour) =>
        html`<option value="${hour}" ${hour === view.sendHour ? 'selected' : ''}>${String(hour).padStart(2, '0')}:00</option>`,
    )}</select></div>
</div>
<div class="row">
<div class="field"><label for="timezone">Time zone</label>
<select id="timezone" name="timezone">${timezones.map(
      (zone) => html`<option ${zone === view.timezone ? 'selected' : ''}>${zone}</option>`,
    )}</select></div>
<div class="field"><label for="maxPapers">Papers per email</label>
<input id="maxPapers" name="maxPapers" type="number" min="1" max="50" value="${view.maxPapers}"></div>
</div>
${deliveryFields(view, feedUrl)}
<button type="submit">Save preferences</button>
</form>
</section>
<section class="card">
<h2>${isActive ? 'Stop the digest' : 'Start the digest again'}</h2>
<form method="post" action="/manage/${token}">
${
  isActive
    ? html`<input type="hidden" name="action" value="unsubscribe"><button type="submit" class="danger">Unsubscribe</button>`
    : html`<input type="hidden" name="action" value="resubscribe"><button type="submit">Resubscribe</button>`
}
</form>
</section>
${likedSection(token, view.likedPapers, likedResults)}
${feedbackSection(token, view.feedback)}
<section class="card">
<h2>Your data</h2>
<p><a href="/manage/${token}/export" download="paperboy-export.json">Download everything paperboy stores about you</a> (JSON).</p>
<form method="post" action="/manage/${token}" class="stack">
<input type="hidden" name="action" value="delete">
<label class="check"><input type="checkbox" name="confirmDelete" value="yes" required> I understand this deletes my subscription and history for good.</label>
<button type="submit" class="danger">Delete my data</button>
</form>
</section>`,
  });
}
