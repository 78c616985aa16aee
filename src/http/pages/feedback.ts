import type { FeedbackKind } from '../../db/schema.js';
import { html } from '../html.js';
import { layout } from './layout.js';

/** What a click changes, in the reader's words: re-ranking among what their topics match, nothing more. */
const effects: Record<FeedbackKind, string> = {
  more: 'Papers similar to this one will rank higher in your digests, among the papers your topics match.',
  less: 'Papers similar to this one will rank lower in your digests, and near-copies of it sink to the end.',
};
const headings: Record<FeedbackKind, string> = { more: 'More like this', less: 'Less like this' };

interface FeedbackPageInput {
  token: string;
  kind: FeedbackKind;
  paper: { arxivId: string; title: string };
  /** The reader's feedback on this paper as it stands. */
  now: FeedbackKind | undefined;
}

const paperLine = (paper: FeedbackPageInput['paper']) =>
  html`<p><strong>${paper.title}</strong> <span class="muted">(arXiv ${paper.arxivId})</span></p>`;

/** What the link opens: nothing changes until the button is pressed (mail scanners open every link). */
export function feedbackPage({ token, kind, paper, now }: FeedbackPageInput) {
  return layout({
    title: headings[kind],
    body: html`
<section class="card">
<h1>${headings[kind]}?</h1>
${paperLine(paper)}
<p>${effects[kind]} Feedback never adds papers that none of your topics match.</p>
${now === kind ? html`<p class="muted">You already said this about this paper.</p>` : html``}
<form method="post" action="/feedback/${token}"><button type="submit">${headings[kind]}</button></form>
</section>`,
  });
}

/** After the button: what was recorded, what it changes, and how to take it back. */
export function feedbackGivenPage({ token, paper, now }: Omit<FeedbackPageInput, 'kind'>) {
  const body =
    now === undefined
      ? html`<h1>Feedback taken back</h1>
${paperLine(paper)}
<p>This paper no longer changes how your digests are ranked.</p>`
      : html`<h1>Noted: ${headings[now].toLowerCase()}</h1>
${paperLine(paper)}
<p>From your next digest on: ${effects[now].charAt(0).toLowerCase()}${effects[now].slice(1)} Feedback never adds papers that none of your topics match.</p>
<form method="post" action="/feedback/${token}"><input type="hidden" name="action" value="undo"><button type="submit">Undo</button></form>`;
  return layout({
    title: now === undefined ? 'Feedback taken back' : 'Feedback noted',
    body: html`
<section class="card">
${body}
<p class="muted">Your preferences page (the "Manage" link in every digest) lists all your feedback, and undoes any of it.</p>
</section>`,
  });
}
