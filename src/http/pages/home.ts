import type { Frequency } from '../../db/schema.js';
import { html } from '../html.js';
import { errorBox, frequencyField, topicsField } from './fields.js';
import { layout } from './layout.js';

export interface HomeForm {
  email: string;
  topics: string[];
  frequency: Frequency;
  timezone: string;
}

export function homePage({ form, error }: { form?: Partial<HomeForm>; error?: string } = {}) {
  return layout({
    title: 'New research papers, your topics, your inbox',
    body: html`
<section class="card">
<h1>New research papers on your topics, in your inbox</h1>
<p class="lead">paperboy reads the Hugging Face daily papers and arXiv, keeps the papers that match your
topics, and emails you a short ranked digest at the hour you choose.</p>
${errorBox(error)}
<form method="post" action="/subscribe" class="stack" novalidate>
<div class="field">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${form?.email ?? ''}">
</div>
${topicsField(form?.topics ?? [])}
${frequencyField(form?.frequency ?? 'daily')}
<input type="hidden" name="timezone" value="${form?.timezone ?? 'UTC'}" data-detect-timezone>
<button type="submit">Subscribe</button>
<p class="hint">We send one email to confirm. Your address is used for nothing else.</p>
</form>
</section>
<section class="card">
<h2>Or follow a topic as a feed</h2>
<p>No address needed: any topic is an Atom feed (<code>/feeds/topic.atom?q=…</code>) or a JSON Feed
(<code>/feeds/topic.json?q=…</code>) for your feed reader, best papers of the last 30 days first.</p>
<form method="get" action="/feeds/topic.atom" class="stack">
<div class="field"><label for="feedTopic">Topic</label>
<input id="feedTopic" name="q" type="text" required maxlength="200" spellcheck="false" placeholder="cat:cs.LG quantization -survey"></div>
<button type="submit">Follow as a feed</button>
</form>
</section>`,
  });
}
