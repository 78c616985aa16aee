import { html } from '../html.js';
import { layout } from './layout.js';

export function unsubscribePage({ token, email }: { token: string; email: string }) {
  return layout({
    title: 'Unsubscribe',
    body: html`
<section class="card">
<h1>Unsubscribe</h1>
<p>Stop sending the paperboy digest to <strong>${email}</strong>?</p>
<form method="post" action="/unsubscribe/${token}"><button type="submit" class="danger">Unsubscribe</button></form>
</section>`,
  });
}

// No manage link here: mailbox providers post the one-click unsubscribe and read this answer.
export function unsubscribedPage({ email }: { email: string }) {
  return layout({
    title: 'You are unsubscribed',
    body: html`
<section class="card">
<h1>You are unsubscribed</h1>
<p>No more digests will be sent to <strong>${email}</strong>.</p>
<p>Changed your mind? Use the "Manage" link in any of your digests, or subscribe again on the <a href="/">home page</a>.</p>
</section>`,
  });
}
