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
</section>`,
  });
}
