import { html } from '../html.js';
import { layout } from './layout.js';

export function confirmPage({ token, email }: { token: string; email: string }) {
  return layout({
    title: 'Confirm your subscription',
    body: html`
<section class="card">
<h1>Confirm your subscription</h1>
<p>Press the button to start receiving the paperboy digest at <strong>${email}</strong>.</p>
<form method="post" action="/confirm/${token}"><button type="submit">Confirm subscription</button></form>
</section>`,
  });
}

export function confirmedPage({
  manageUrl,
  isNewlyConfirmed,
}: {
  manageUrl: string;
  isNewlyConfirmed: boolean;
}) {
  return layout({
    title: isNewlyConfirmed ? 'You are subscribed' : 'Already confirmed',
    body: html`
<section class="card">
<h1>${isNewlyConfirmed ? 'You are subscribed' : 'Already confirmed'}</h1>
<p>Your first digest arrives at your chosen hour once there are new papers on your topics.</p>
<p><a class="button" href="${manageUrl}">Manage your subscription</a></p>
</section>`,
  });
}
