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

export function managePage({
  token,
  view,
  notice,
  error,
}: {
  token: string;
  view: SubscriberView;
  notice?: string;
  error?: string;
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
