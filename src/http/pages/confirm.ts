import type { RequestedPreferences } from '../../db/schema.js';
import { describeSchedule } from '../../subscribers/preferences.js';
import { html } from '../html.js';
import { layout } from './layout.js';

/** Shows exactly what the button will turn on: the preferences of the request this link was sent for. */
export function confirmPage({
  token,
  email,
  preferences,
}: {
  token: string;
  email: string;
  preferences: RequestedPreferences;
}) {
  const topics =
    preferences.topics.length > 0
      ? html`<ul class="topics">${preferences.topics.map((topic) => html`<li><code>${topic}</code></li>`)}</ul>`
      : html`<p>No topics: the most upvoted new papers.</p>`;
  return layout({
    title: 'Confirm your subscription',
    body: html`
<section class="card">
<h1>Confirm your subscription</h1>
<p>Press the button to start the paperboy digest at <strong>${email}</strong>, ${describeSchedule(preferences)}, on these topics:</p>
${topics}
<form method="post" action="/confirm/${token}"><button type="submit">Confirm subscription</button></form>
<p class="muted">Not what you asked for? Do nothing: without confirmation nothing is sent.</p>
</section>`,
  });
}

export function confirmedPage({ email, isNewlyConfirmed }: { email: string; isNewlyConfirmed: boolean }) {
  return layout({
    title: isNewlyConfirmed ? 'You are subscribed' : 'Already confirmed',
    body: html`
<section class="card">
<h1>${isNewlyConfirmed ? 'You are subscribed' : 'Already confirmed'}</h1>
<p>Your first digest arrives at your chosen hour once there are new papers on your topics.</p>
<p>${isNewlyConfirmed ? 'We have emailed' : 'We emailed'} <strong>${email}</strong> a link to your preferences page, where you can change topics and schedule or unsubscribe; every digest carries one too.</p>
</section>`,
  });
}
